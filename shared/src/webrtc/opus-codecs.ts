import type { RTCRtpCodecParameters } from 'werift';
import { werift } from './werift-module.js';

/** Opus's RTP payload type everywhere in Parley (offers, answers, probes). */
export const OPUS_PAYLOAD_TYPE = 111;

/**
 * werift codec configuration for a voice-only peer: Opus at 48 kHz, nothing
 * else. Transceivers, the call client, benchmarks and tests all negotiate
 * with this, so they agree on the payload type.
 */
export function opusOnlyCodecs(): { audio: RTCRtpCodecParameters[]; video: RTCRtpCodecParameters[] } {
  return {
    audio: [
      new werift.RTCRtpCodecParameters({
        mimeType: 'audio/opus',
        clockRate: 48_000,
        channels: 2,
        payloadType: OPUS_PAYLOAD_TYPE,
      }),
    ],
    video: [],
  };
}
