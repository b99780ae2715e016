import { REALTIME_RATE } from '../agent/realtime/realtime-messages.js';
import type { ConversationItem, RealtimeSessionConfig } from './oai-events.js';

/**
 * What the `realtime` agent (a bridge to a Realtime-style model) sends its
 * upstream when a Realtime client configures the call through Parley's front
 * door. The client's settings pass through; the audio formats stay the
 * bridge's own (PCM16 at 24 kHz both ways), because the bridge, not the
 * client, decodes and encodes the upstream's audio: the client's format is
 * the WebRTC track's Opus.
 */
export function upstreamSessionUpdate(s: RealtimeSessionConfig): object {
  const voice = s.audio.output.voice;
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      instructions: s.instructions,
      tools: s.tools,
      tool_choice: s.tool_choice,
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: REALTIME_RATE },
          turn_detection: s.audio.input.turn_detection,
          ...(s.audio.input.transcription !== undefined && { transcription: s.audio.input.transcription }),
        },
        output: {
          format: { type: 'audio/pcm', rate: REALTIME_RATE },
          ...(typeof voice === 'string' && { voice }),
        },
      },
    },
  };
}

export function upstreamResponseCreate(response: Record<string, unknown>): object {
  return { type: 'response.create', response };
}

/** Our `object`/`status` are bookkeeping for the client; the upstream assigns its own. */
export function upstreamItemCreate(item: ConversationItem): object {
  const { object: _o, status: _s, ...rest } = item;
  return { type: 'conversation.item.create', item: rest };
}
