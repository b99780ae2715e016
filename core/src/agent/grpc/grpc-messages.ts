import type { AgentEvent, UserAudio } from '../agent.js';
import type { WireClientMessage, WireServerMessage } from './agent-proto.js';

/** What one server message means to the session, or why it is unacceptable. */
export type ServerMeaning =
  | { kind: 'audio'; pcm: Int16Array; sampleRate: number }
  /** One 20 ms Opus packet, to send as an RTP payload unchanged. */
  | { kind: 'opus'; packet: Buffer }
  | { kind: 'event'; event: AgentEvent }
  | { kind: 'error'; reason: string }
  | { kind: 'malformed'; reason: string }
  | { kind: 'ignore' };

const EMPTY = Buffer.alloc(0);
const MIN_RATE = 8_000;
const MAX_RATE = 48_000;
/** RFC 6716 3.4 [R2]: no frame is longer than 1275 bytes; a 20 ms packet at any sane bitrate is far below. */
const MAX_OPUS_BYTES = 1275;

/**
 * Samples (48 kHz) an Opus packet holds, from its TOC byte (RFC 6716 3.1-3.2),
 * or -1 when the TOC says the packet cannot be valid.
 */
export function opusPacketSamples48k(packet: Uint8Array): number {
  const toc = packet[0];
  if (toc === undefined) return -1;
  const config = toc >> 3;
  // SILK-only 10/20/40/60 ms, hybrid 10/20 ms, CELT-only 2.5/5/10/20 ms.
  const frame48k =
    config < 12
      ? [480, 960, 1920, 2880][config & 3]
      : config < 16
        ? [480, 960][config & 1]
        : [120, 240, 480, 960][config & 3];
  const code = toc & 3;
  let frames = code === 0 ? 1 : 2;
  if (code === 3) {
    const count = packet[1];
    if (count === undefined || (count & 0x3f) === 0) return -1;
    frames = count & 0x3f;
  }
  const samples = (frame48k as number) * frames;
  return samples > 5760 ? -1 : samples; // 120 ms at most
}

export function userOpusMessage(packet: Buffer, mediaMs: number): WireClientMessage {
  return { audio: { opus: packet, sampleRate: 48_000, mediaMs: Math.max(0, Math.round(mediaMs)) } };
}

/**
 * The PCM is copied: a gRPC stream may hold the message until it drains, and
 * the pipeline reuses the frame's buffer once onAudio returns (copiesAudio).
 */
export function userAudioMessage(frame: UserAudio, sampleRate: number): WireClientMessage {
  return {
    audio: {
      pcm: Buffer.copyBytesFrom(frame.pcm),
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
      const pcmBytes = a.pcm ?? EMPTY;
      if (a.opus?.length) {
        if (pcmBytes.length) return { kind: 'malformed', reason: 'audio chunk with both pcm and opus' };
        if (a.opus.length > MAX_OPUS_BYTES)
          return { kind: 'malformed', reason: `Opus packet of ${a.opus.length} bytes` };
        const samples = opusPacketSamples48k(a.opus);
        // The pacer sends one packet per 20 ms and advances the RTP clock 960 per packet.
        if (samples !== 960)
          return {
            kind: 'malformed',
            reason: samples < 0 ? 'invalid Opus packet' : `Opus packet of ${samples / 48} ms (must be 20 ms)`,
          };
        // Copied, like PCM below: it waits in the pacer queue, and the wire buffer is not ours to keep.
        return { kind: 'opus', packet: Buffer.from(a.opus) };
      }
      if (!Number.isInteger(a.sampleRate) || a.sampleRate < MIN_RATE || a.sampleRate > MAX_RATE)
        return { kind: 'malformed', reason: `audio chunk with sample_rate ${a.sampleRate}` };
      if (pcmBytes.length % 2 !== 0)
        return {
          kind: 'malformed',
          reason: `audio chunk of ${pcmBytes.length} bytes is not whole PCM16 samples`,
        };
      // Copy: the wire buffer may not be 2-byte aligned, and it is reused by the transport.
      const pcm = new Int16Array(pcmBytes.length / 2);
      for (let i = 0; i < pcm.length; i++) pcm[i] = pcmBytes.readInt16LE(i * 2);
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
