import { bump, fuzz, fuzzFloor, fuzzTimeout, invariant, mutatedBytes } from '@parley/shared/testing/fuzz.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretRealtimeEvent } from './realtime-messages.js';

/**
 * Every text frame from a Realtime-style server goes through
 * interpretRealtimeEvent. Under fuzzing (events of every known type with
 * fields of the wrong JSON type, damaged base64 audio, byte-level
 * mutations of real events, arbitrary JSON and text) it must never throw
 * and must name a reason for everything it refuses.
 */
const TYPES = [
  'session.created',
  'session.updated',
  'response.output_audio.delta',
  'response.audio.delta',
  'input_audio_buffer.speech_started',
  'input_audio_buffer.speech_stopped',
  'response.created',
  'response.done',
  'response.output_audio_transcript.delta',
  'response.audio_transcript.delta',
  'response.output_audio_transcript.done',
  'response.audio_transcript.done',
  'conversation.item.input_audio_transcription.completed',
  'error',
  'rate_limits.updated',
];
const KINDS = new Set(['audio', 'event', 'session', 'error', 'malformed', 'ignore']);

// JSON values of every type, from a fixed pool: fc.jsonValue() costs ~100 us an input, too much for 100k.
const JSON_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  '',
  'x',
  'cancelled',
  'AAAA',
  'AAA=',
  '====',
  '\u0000',
  [],
  [1, 'a'],
  {},
  { id: 5 },
  { id: 'r2', status: 'cancelled' },
  { code: 7, type: [], message: {} },
  { __proto__: 1 },
];
const anyJson = fc.constantFrom(...JSON_VALUES);
const audioDelta = fc.oneof(
  fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b).toString('base64')),
  fc.string({ maxLength: 24 }),
  anyJson,
);
// Events of the known types (sometimes of none) whose fields may be missing or of any JSON type.
const event = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constantFrom(...TYPES), weight: 6 }, { arbitrary: anyJson, weight: 1 }),
    fc.option(audioDelta),
    fc.option(fc.oneof(anyJson, fc.string({ maxLength: 12 }))),
    fc.option(anyJson),
    fc.option(anyJson),
  )
  .map(([type, delta, transcript, response, error]) => {
    const e: Record<string, unknown> = { type };
    if (delta !== null) e.delta = delta;
    if (transcript !== null) e.transcript = transcript;
    if (response !== null) e.response = response;
    if (error !== null) e.error = error;
    return JSON.stringify(e);
  });

const samples = [
  '{"type":"response.output_audio.delta","delta":"AAABAAIA"}',
  '{"type":"response.done","response":{"id":"r1","status":"cancelled"}}',
  '{"type":"error","error":{"code":"x","type":"invalid_request_error","message":"bad"}}',
  '{"type":"response.output_audio_transcript.done","transcript":"hi"}',
  '{"type":"session.updated","session":{"type":"realtime"}}',
].map((s) => Buffer.from(s));

describe('Realtime event decoding under fuzzing', () => {
  it(
    'never throws, and maps every frame to a known meaning or a named refusal',
    () => {
      const tally = new Map<string, number>();
      const arb = fc.oneof(
        { arbitrary: event, weight: 5 },
        { arbitrary: mutatedBytes(samples).map((b) => b.toString('utf8')), weight: 3 },
        { arbitrary: anyJson.map((v) => JSON.stringify(v) ?? 'null'), weight: 1 },
        { arbitrary: fc.string({ maxLength: 40, unit: 'binary' }), weight: 1 },
      );
      fuzz(arb, (text) => {
        const m = interpretRealtimeEvent(text);
        invariant(KINDS.has(m.kind), () => `unknown meaning ${m.kind}`);
        if (m.kind === 'malformed') invariant(m.reason.length > 0, 'malformed without a reason');
        if (m.kind === 'error')
          invariant(typeof m.code === 'string' && typeof m.message === 'string', 'error fields');
        if (m.kind === 'audio') invariant(m.pcm instanceof Int16Array, 'audio is not PCM16');
        if (m.kind === 'event' && m.event.type === 'transcript')
          invariant(typeof m.event.text === 'string', 'transcript text is not a string');
        bump(tally, m.kind);
      });
      for (const k of KINDS) expect(tally.get(k) ?? 0, k).toBeGreaterThan(fuzzFloor(100));
    },
    fuzzTimeout(),
  );
});
