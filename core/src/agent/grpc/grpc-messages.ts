import type { AgentEvent, UserAudio } from '../agent.js';
import type { WireClientMessage, WireServerMessage } from './agent-proto.js';

/** What one server message means to the session, or why it is unacceptable. */
export type ServerMeaning =
  | { kind: 'audio'; pcm: Int16Array; sampleRate: number }
  | { kind: 'event'; event: AgentEvent }
  | { kind: 'error'; reason: string }
  | { kind: 'malformed'; reason: string }
  | { kind: 'ignore' };

const MIN_RATE = 8_000;
const MAX_RATE = 48_000;

export function userAudioMessage(frame: UserAudio, sampleRate: number): WireClientMessage {
  return {
    audio: {
      pcm: Buffer.from(frame.pcm.buffer, frame.pcm.byteOffset, frame.pcm.byteLength),
      sampleRate,
      mediaMs: Math.round(frame.mediaMs),
    },
  };
}

/** Maps a server message to audio or an event; pure, so it is tested without sockets. */
export function interpretServerMessage(msg: WireServerMessage): ServerMeaning {
  switch (msg.kind) {
    case 'audio': {
      const a = msg.audio;
      if (!a) return { kind: 'malformed', reason: 'audio message without a chunk' };
      if (!Number.isInteger(a.sampleRate) || a.sampleRate < MIN_RATE || a.sampleRate > MAX_RATE)
        return { kind: 'malformed', reason: `audio chunk with sample_rate ${a.sampleRate}` };
      if (a.pcm.length % 2 !== 0)
        return {
          kind: 'malformed',
          reason: `audio chunk of ${a.pcm.length} bytes is not whole PCM16 samples`,
        };
      // Copy: the wire buffer may not be 2-byte aligned, and it is reused by the transport.
      const pcm = new Int16Array(a.pcm.length / 2);
      for (let i = 0; i < pcm.length; i++) pcm[i] = a.pcm.readInt16LE(i * 2);
      return { kind: 'audio', pcm, sampleRate: a.sampleRate };
    }
    case 'responseStarted':
      return {
        kind: 'event',
        event: { type: 'response_started', id: msg.responseStarted?.responseId || undefined },
      };
    case 'responseDone':
      return {
        kind: 'event',
        event: {
          type: 'response_done',
          id: msg.responseDone?.responseId || undefined,
          status: msg.responseDone?.cancelled ? 'cancelled' : 'completed',
        },
      };
    case 'transcript': {
      const t = msg.transcript;
      if (!t || (t.role !== 'USER' && t.role !== 'AGENT'))
        return { kind: 'malformed', reason: `transcript with role ${t?.role ?? 'missing'}` };
      return {
        kind: 'event',
        event: {
          type: 'transcript',
          role: t.role === 'USER' ? 'user' : 'agent',
          text: t.text,
          final: t.final,
        },
      };
    }
    case 'userSpeechStarted':
      return { kind: 'event', event: { type: 'user_speech_started' } };
    case 'error':
      return { kind: 'error', reason: `${msg.error?.code || 'error'}: ${msg.error?.message ?? ''}`.trim() };
    default:
      // An empty message (no oneof set) carries nothing; newer fields we do not know are skipped.
      return { kind: 'ignore' };
  }
}
