import { describe, expect, it } from 'vitest';
import { interpretServerMessage, userAudioMessage } from './grpc-messages.js';

describe('gRPC agent message mapping', () => {
  it('user audio becomes an AudioChunk of little-endian PCM16 with rate and media time', () => {
    const msg = userAudioMessage({ pcm: Int16Array.of(1, -2, 300), mediaMs: 40.4, speech: true }, 16_000);
    expect('audio' in msg && msg.audio).toEqual({
      pcm: Buffer.from([1, 0, 0xfe, 0xff, 0x2c, 0x01]),
      sampleRate: 16_000,
      mediaMs: 40,
    });
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
});
