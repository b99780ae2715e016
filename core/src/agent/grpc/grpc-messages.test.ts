import { describe, expect, it } from 'vitest';
import { OpusEncoder } from '../../media/opus-codec.js';
import {
  interpretServerMessage,
  opusPacketSamples48k,
  userAudioMessage,
  userOpusMessage,
} from './grpc-messages.js';

describe('gRPC agent message mapping', () => {
  it('user audio becomes an AudioChunk of little-endian PCM16 with rate and media time', () => {
    const msg = userAudioMessage({ pcm: Int16Array.of(1, -2, 300), mediaMs: 40.4, speech: true }, 16_000);
    expect('audio' in msg && msg.audio).toEqual({
      pcm: Buffer.from([1, 0, 0xfe, 0xff, 0x2c, 0x01]),
      sampleRate: 16_000,
      mediaMs: 40,
    });
  });

  it('user audio is a copy: the frame buffer may be reused while the stream still holds the message', () => {
    const pcm = Int16Array.of(1, 2, 3);
    const msg = userAudioMessage({ pcm, mediaMs: 0, speech: true }, 16_000);
    pcm.fill(0); // the pipeline reuses the buffer for the next frame
    expect('audio' in msg && msg.audio.pcm).toEqual(Buffer.from([1, 0, 2, 0, 3, 0]));
  });

  it('server audio becomes PCM at its own rate, read from an unaligned buffer', () => {
    const wire = Buffer.alloc(7);
    wire.writeInt16LE(-5, 1);
    wire.writeInt16LE(1234, 3);
    wire.writeInt16LE(7, 5);
    const m = interpretServerMessage({
      kind: 'audio',
      audio: { pcm: wire.subarray(1), sampleRate: 24_000, mediaMs: 0 },
    });
    expect(m.kind).toBe('audio');
    if (m.kind === 'audio') {
      expect(Array.from(m.pcm)).toEqual([-5, 1234, 7]);
      expect(m.sampleRate).toBe(24_000);
    }
  });

  it('maps response markers, transcripts and the server VAD signal to agent events', () => {
    expect(
      interpretServerMessage({ kind: 'responseStarted', responseStarted: { responseId: 'r1' } }),
    ).toEqual({
      kind: 'event',
      event: { type: 'response_started', id: 'r1' },
    });
    expect(
      interpretServerMessage({ kind: 'responseDone', responseDone: { responseId: 'r1', cancelled: true } }),
    ).toMatchObject({ event: { type: 'response_done', status: 'cancelled' } });
    expect(
      interpretServerMessage({ kind: 'transcript', transcript: { role: 'AGENT', text: 'hi', final: false } }),
    ).toEqual({ kind: 'event', event: { type: 'transcript', role: 'agent', text: 'hi', final: false } });
    expect(interpretServerMessage({ kind: 'userSpeechStarted', userSpeechStarted: { mediaMs: 0 } })).toEqual({
      kind: 'event',
      event: { type: 'user_speech_started' },
    });
    expect(
      interpretServerMessage({ kind: 'error', error: { code: 'quota', message: 'out of credit' } }),
    ).toEqual({
      kind: 'error',
      reason: 'quota: out of credit',
    });
    expect(interpretServerMessage({})).toEqual({ kind: 'ignore' });
  });

  it('rejects malformed messages with a reason', () => {
    const bad = [
      interpretServerMessage({ kind: 'audio', audio: { pcm: Buffer.alloc(4), sampleRate: 0, mediaMs: 0 } }),
      interpretServerMessage({
        kind: 'audio',
        audio: { pcm: Buffer.alloc(3), sampleRate: 16_000, mediaMs: 0 },
      }),
      interpretServerMessage({ kind: 'audio' }),
      interpretServerMessage({
        kind: 'transcript',
        transcript: { role: 'ROLE_UNSPECIFIED', text: '', final: true },
      }),
    ];
    expect(bad.map((b) => b.kind)).toEqual(['malformed', 'malformed', 'malformed', 'malformed']);
    expect(bad[0]).toMatchObject({ reason: 'audio chunk with sample_rate 0' });
  });

  it('Opus sessions: user packets go as they are with media time; a server packet of 20 ms comes back unchanged', () => {
    const packet = new OpusEncoder({ sampleRate: 24_000 }).encode(new Int16Array(480));
    expect(userOpusMessage(packet, 59.6)).toEqual({
      audio: { opus: packet, sampleRate: 48_000, mediaMs: 60 },
    });
    expect(userOpusMessage(packet, -0.5)).toMatchObject({ audio: { mediaMs: 0 } });
    // As proto-loader delivers it: pcm present but empty.
    const m = interpretServerMessage({
      kind: 'audio',
      audio: { pcm: Buffer.alloc(0), opus: packet, sampleRate: 0, mediaMs: 0 },
    });
    expect(m).toEqual({ kind: 'opus', packet });
    // A copy the session keeps: the wire buffer may be reused.
    packet[1] = (packet[1] as number) ^ 0xff;
    if (m.kind === 'opus') expect(m.packet[1]).toBe((packet[1] as number) ^ 0xff);
  });

  it('Opus packet length from the TOC byte (RFC 6716 3.1): only 20 ms packets are accepted from a server', () => {
    expect(opusPacketSamples48k(Uint8Array.of(0x08))).toBe(960); // SILK NB 20 ms, one frame
    expect(opusPacketSamples48k(Uint8Array.of(0x78))).toBe(960); // hybrid FB 20 ms
    expect(opusPacketSamples48k(Uint8Array.of(0xf8))).toBe(960); // CELT FB 20 ms
    expect(opusPacketSamples48k(Uint8Array.of(0xf9))).toBe(1920); // two 20 ms frames
    expect(opusPacketSamples48k(Uint8Array.of(0xe3, 0x08))).toBe(960); // 8 x 2.5 ms (code 3)
    expect(opusPacketSamples48k(Uint8Array.of(0x1b, 0x03))).toBe(-1); // 3 x 60 ms > 120 ms
    expect(opusPacketSamples48k(Uint8Array.of(0xfb, 0x00))).toBe(-1); // code 3 with no frames
    expect(opusPacketSamples48k(new Uint8Array(0))).toBe(-1);
    const chunk = (opus: Buffer, pcm = Buffer.alloc(0)) =>
      interpretServerMessage({ kind: 'audio', audio: { pcm, opus, sampleRate: 48_000, mediaMs: 0 } });
    expect(chunk(Buffer.from([0x10, 1, 2]))).toEqual({
      kind: 'malformed',
      reason: 'Opus packet of 40 ms (must be 20 ms)',
    });
    expect(chunk(Buffer.from([0xfb, 0]))).toEqual({ kind: 'malformed', reason: 'invalid Opus packet' });
    expect(chunk(Buffer.alloc(1300, 0xf8))).toEqual({
      kind: 'malformed',
      reason: 'Opus packet of 1300 bytes',
    });
    expect(chunk(Buffer.from([0xf8, 1]), Buffer.alloc(2))).toEqual({
      kind: 'malformed',
      reason: 'audio chunk with both pcm and opus',
    });
  });
});
