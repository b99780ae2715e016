import type { AgentEvent } from '../agent.js';

/**
 * The subset of OpenAI's Realtime API event protocol the bridge speaks, as
 * pure functions: client events we send, and what server events mean.
 * Audio is PCM16 mono at 24 kHz, base64 in JSON. Both the beta event names
 * (response.audio.delta) and the current ones (response.output_audio.delta)
 * are understood.
 */
export const REALTIME_RATE = 24_000;

export type RealtimeMeaning =
  | { kind: 'audio'; pcm: Int16Array }
  | { kind: 'event'; event: AgentEvent }
  | { kind: 'session'; type: 'session.created' | 'session.updated' }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'malformed'; reason: string }
  | { kind: 'ignore' };

export function sessionUpdate(instructions?: string): object {
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      ...(instructions ? { instructions } : {}),
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: REALTIME_RATE },
          // The server decides turns; its speech_started doubles as our barge-in signal.
          turn_detection: { type: 'server_vad' },
        },
        output: { format: { type: 'audio/pcm', rate: REALTIME_RATE } },
      },
    },
  };
}

export function appendAudio(pcm: Int16Array): object {
  return {
    type: 'input_audio_buffer.append',
    audio: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64'),
  };
}

export function cancelResponse(): object {
  return { type: 'response.cancel' };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodePcm(b64: unknown): Int16Array | string {
  if (typeof b64 !== 'string' || b64.length % 4 !== 0 || !BASE64.test(b64)) return 'audio is not base64';
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length % 2 !== 0) return `audio of ${bytes.length} bytes is not whole PCM16 samples`;
  const pcm = new Int16Array(bytes.length / 2);
  for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(i * 2);
  return pcm;
}

/** Interprets one text frame from the server. */
export function interpretRealtimeEvent(text: string): RealtimeMeaning {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(text);
  } catch {
    return { kind: 'malformed', reason: 'a message that is not JSON' };
  }
  if (typeof e !== 'object' || e === null || typeof e.type !== 'string')
    return { kind: 'malformed', reason: 'a message without a type' };
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  switch (e.type) {
    case 'session.created':
    case 'session.updated':
      return { kind: 'session', type: e.type };
    case 'response.output_audio.delta':
    case 'response.audio.delta': {
      const pcm = decodePcm(e.delta);
      return typeof pcm === 'string'
        ? { kind: 'malformed', reason: `${e.type}: ${pcm}` }
        : { kind: 'audio', pcm };
    }
    case 'input_audio_buffer.speech_started':
      return { kind: 'event', event: { type: 'user_speech_started' } };
    case 'input_audio_buffer.speech_stopped':
      return { kind: 'event', event: { type: 'user_speech_stopped' } };
    case 'response.created': {
      const r = e.response as { id?: unknown } | undefined;
      return { kind: 'event', event: { type: 'response_started', id: str(r?.id) || undefined } };
    }
    case 'response.done': {
      const r = e.response as { id?: unknown; status?: unknown } | undefined;
      return {
        kind: 'event',
        event: {
          type: 'response_done',
          id: str(r?.id) || undefined,
          status: r?.status === 'cancelled' ? 'cancelled' : 'completed',
        },
      };
    }
    case 'response.output_audio_transcript.delta':
    case 'response.audio_transcript.delta':
      return {
        kind: 'event',
        event: { type: 'transcript', role: 'agent', text: str(e.delta), final: false },
      };
    case 'response.output_audio_transcript.done':
    case 'response.audio_transcript.done':
      return {
        kind: 'event',
        event: { type: 'transcript', role: 'agent', text: str(e.transcript), final: true },
      };
    case 'conversation.item.input_audio_transcription.completed':
      return {
        kind: 'event',
        event: { type: 'transcript', role: 'user', text: str(e.transcript), final: true },
      };
    case 'error': {
      const err = (e.error ?? {}) as { code?: unknown; type?: unknown; message?: unknown };
      return { kind: 'error', code: str(err.code) || str(err.type) || 'error', message: str(err.message) };
    }
    default:
      return { kind: 'ignore' };
  }
}
