import { bump, fuzz, fuzzBytes, fuzzFloor, fuzzTimeout, invariant } from '@parley/shared/testing/fuzz.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { voiceAgentProto, type WireServerMessage } from './agent-proto.js';
import { interpretServerMessage } from './grpc-messages.js';

/**
 * What a model server sends travels two steps: grpc-js decodes the bytes
 * with the service's deserializer (proto-loader over protobufjs), then
 * interpretServerMessage maps the object to audio or an event. A decode
 * that throws is contained by grpc-js, which ends the call with INTERNAL
 * ("Response message parsing error"), and the bridge ends the session with
 * that reason; so the first step may reject with an Error, the second may
 * never throw, and must name every message it refuses.
 */
const { Converse } = voiceAgentProto().service as unknown as {
  Converse: { responseSerialize(m: unknown): Buffer; responseDeserialize(b: Buffer): WireServerMessage };
};
const encode = (m: object) => Converse.responseSerialize(m);

const KINDS = new Set(['audio', 'opus', 'event', 'error', 'malformed', 'ignore']);
/** A 20 ms CELT TOC (config 31, code 0) and a few others, so Opus checks run both ways. */
const TOCS = [0xf8, 0xf9, 0xfb, 0x78, 0x08, 0x03, 0x00, 0xff];

const serverMessage: fc.Arbitrary<object> = fc.oneof(
  fc.record({
    audio: fc.record({
      pcm: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      sampleRate: fc.oneof(fc.constantFrom(0, 7_999, 8_000, 16_000, 24_000, 48_000, 48_001), fc.nat()),
      mediaMs: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
      opus: fc.oneof(
        fc.constant(Buffer.alloc(0)),
        fc
          .tuple(fc.constantFrom(...TOCS), fc.uint8Array({ maxLength: 40 }))
          .map(([t, b]) => Buffer.from([t, ...b])),
        fc.integer({ min: 1270, max: 1300 }).map((n) => Buffer.alloc(n, 0xf8)),
      ),
    }),
  }),
  fc.record({ responseStarted: fc.record({ responseId: fc.string({ maxLength: 12 }) }) }),
  fc.record({
    responseDone: fc.record({ responseId: fc.string({ maxLength: 12 }), cancelled: fc.boolean() }),
  }),
  fc.record({
    transcript: fc.record({
      role: fc.constantFrom(0, 1, 2, 3, 1000),
      text: fc.string({ maxLength: 40, unit: 'grapheme' }),
      final: fc.boolean(),
    }),
  }),
  fc.record({ userSpeechStarted: fc.record({ mediaMs: fc.nat() }) }),
  fc.record({
    error: fc.record({ code: fc.string({ maxLength: 8 }), message: fc.string({ maxLength: 20 }) }),
  }),
  fc.constant({}),
);

const samples = [
  encode({ audio: { pcm: Buffer.alloc(640, 1), sampleRate: 16_000, mediaMs: 20 } }),
  encode({ audio: { opus: Buffer.from([0xf8, 1, 2, 3]), sampleRate: 48_000, mediaMs: 20 } }),
  encode({ responseStarted: { responseId: 'r1' } }),
  encode({ responseDone: { responseId: 'r1', cancelled: true } }),
  encode({ transcript: { role: 2, text: 'hello there', final: true } }),
  encode({ userSpeechStarted: { mediaMs: 5 } }),
  encode({ error: { code: 'x', message: 'boom' } }),
];

describe('gRPC agent message decoding under fuzzing', () => {
  it(
    'contains every decode failure and maps every decoded message to a known meaning',
    () => {
      const tally = new Map<string, number>();
      const arb = fc.oneof(
        { arbitrary: serverMessage.map(encode), weight: 2 },
        { arbitrary: fuzzBytes(samples, 128), weight: 3 },
      );
      fuzz(arb, (bytes) => {
        let decoded: WireServerMessage;
        try {
          decoded = Converse.responseDeserialize(bytes);
        } catch (err) {
          // grpc-js turns this into the call's INTERNAL status, which ends the session with a reason.
          invariant(
            err instanceof Error && err.message.length > 0,
            'decoder threw something that is not an Error',
          );
          bump(tally, 'decode_error');
          return;
        }
        const meaning = interpretServerMessage(decoded);
        invariant(KINDS.has(meaning.kind), () => `unknown meaning ${meaning.kind}`);
        if (meaning.kind === 'malformed') invariant(meaning.reason.length > 0, 'malformed without a reason');
        if (meaning.kind === 'audio')
          invariant(meaning.sampleRate >= 8_000 && meaning.sampleRate <= 48_000, 'audio at an unusable rate');
        if (meaning.kind === 'opus')
          invariant(meaning.packet.length > 0 && meaning.packet.length <= 1275, 'opus size');
        bump(tally, meaning.kind);
      });
      for (const k of ['decode_error', 'audio', 'opus', 'event', 'error', 'malformed', 'ignore'])
        expect(tally.get(k) ?? 0, k).toBeGreaterThan(fuzzFloor(100));
    },
    fuzzTimeout(),
  );
});
