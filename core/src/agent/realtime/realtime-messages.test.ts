import { describe, expect, it } from 'vitest';
import {
  appendAudio,
  cancelResponse,
  decodePcm,
  interpretRealtimeEvent,
  sessionUpdate,
} from './realtime-messages.js';

const ev = (o: object) => interpretRealtimeEvent(JSON.stringify(o));

describe('Realtime protocol mapping', () => {
  it('builds session.update (PCM 24 kHz both ways, server VAD), append (base64 PCM16) and cancel', () => {
    expect(sessionUpdate('be brief')).toEqual({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'be brief',
        audio: {
          input: { format: { type: 'audio/pcm', rate: 24_000 }, turn_detection: { type: 'server_vad' } },
          output: { format: { type: 'audio/pcm', rate: 24_000 } },
        },
      },
    });
    expect(appendAudio(Int16Array.of(1, -1))).toEqual({
      type: 'input_audio_buffer.append',
      audio: 'AQD//w==',
    });
    expect(cancelResponse()).toEqual({ type: 'response.cancel' });
  });

  it('reads audio deltas under both the current and the beta event names', () => {
    for (const type of ['response.output_audio.delta', 'response.audio.delta']) {
      const m = ev({ type, delta: 'AQD//w==' });
      expect(m.kind).toBe('audio');
      if (m.kind === 'audio') expect(Array.from(m.pcm)).toEqual([1, -1]);
    }
  });

  it('maps turn, response and transcript events', () => {
    expect(ev({ type: 'input_audio_buffer.speech_started', audio_start_ms: 5 })).toEqual({
      kind: 'event',
      event: { type: 'user_speech_started' },
    });
    expect(ev({ type: 'response.created', response: { id: 'r1' } })).toEqual({
      kind: 'event',
      event: { type: 'response_started', id: 'r1' },
    });
    expect(ev({ type: 'response.done', response: { id: 'r1', status: 'cancelled' } })).toMatchObject({
      event: { type: 'response_done', status: 'cancelled' },
    });
    expect(ev({ type: 'response.audio_transcript.delta', delta: 'Hel' })).toMatchObject({
      event: { type: 'transcript', role: 'agent', text: 'Hel', final: false },
    });
    expect(ev({ type: 'response.output_audio_transcript.done', transcript: 'Hello' })).toMatchObject({
      event: { role: 'agent', text: 'Hello', final: true },
    });
    expect(
      ev({ type: 'conversation.item.input_audio_transcription.completed', transcript: 'hi' }),
    ).toMatchObject({
      event: { role: 'user', text: 'hi', final: true },
    });
    expect(ev({ type: 'error', error: { code: 'rate_limited', message: 'slow down' } })).toEqual({
      kind: 'error',
      code: 'rate_limited',
      message: 'slow down',
    });
    expect(ev({ type: 'rate_limits.updated' })).toEqual({ kind: 'ignore' });
  });

  it('calls out malformed frames', () => {
    expect(interpretRealtimeEvent('{nope')).toEqual({
      kind: 'malformed',
      reason: 'a message that is not JSON',
    });
    expect(interpretRealtimeEvent('[1]')).toMatchObject({ kind: 'malformed' });
    expect(ev({ type: 'response.output_audio.delta', delta: 'not base64!' })).toMatchObject({
      kind: 'malformed',
    });
    expect(decodePcm('AQD/')).toBe('audio of 3 bytes is not whole PCM16 samples');
    expect(decodePcm(42)).toBe('audio is not base64');
  });
});
