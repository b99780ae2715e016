import { makeProbe, PROBE_PAYLOAD_BYTES, readProbe } from '@parley/loadtest/call/probe-payload.js';
import { describe, expect, it } from 'vitest';
import { OpusDecoder } from '../src/media/opus-codec.js';

// parley call's probes must survive the rtp-echo reflector byte for byte and
// also be real Opus, so a pipeline agent decodes them instead of counting them malformed.
describe('call probes are valid Opus', () => {
  it('decode as 20 ms of silence and still carry their sequence number', () => {
    const dec = new OpusDecoder();
    for (const seq of [0, 1, 0xffffffff]) {
      const p = makeProbe(seq);
      expect(p.length).toBe(PROBE_PAYLOAD_BYTES);
      expect(readProbe(p)).toBe(seq);
      const pcm = dec.decode(p);
      expect(pcm.length).toBe(960);
      expect(pcm.every((v) => Math.abs(v) < 4)).toBe(true);
    }
  });

  it('a re-encoded payload is not mistaken for a probe', () => {
    expect(readProbe(Buffer.from([0xfb, 0x41, 0x08, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8]))).toBeUndefined();
    expect(readProbe(Buffer.from([0x78, 0x01, 0x02]))).toBeUndefined();
  });
});
