import {
  type MediaStreamTrack,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
} from '@parley/shared/webrtc/werift-client.js';
import { makeProbe, readProbe } from './probe-payload.js';

/**
 * A werift call as a packet-gap meter: numbered probes go out 20 ms apart,
 * the echo's arrival time is kept per probe, and a test compares the two
 * around a disruption (ICE restart, relay restart, address move).
 */

/** First arrival (performance.now()) of each echoed probe, keyed by probe number. */
export function recordProbeArrivals(t: RTCRtpTransceiver): Map<number, number> {
  const arrivals = new Map<number, number>();
  t.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => {
      const i = readProbe(rtp.payload);
      if (i !== undefined && !arrivals.has(i)) arrivals.set(i, performance.now());
    }),
  );
  return arrivals;
}

export interface ProbeStreamOptions {
  /** Runs (and is awaited) just before probe `i` goes out: where a test disrupts the path. */
  beforeProbe?: (i: number) => void | Promise<void>;
  firstSequence?: number;
  firstTimestamp?: number;
}

/**
 * Sends `total` probes on a drift-free 20 ms grid (each due time from the
 * start, so a slow turn does not push the rest back) and resolves with each
 * probe's send time.
 */
export async function sendProbes(
  out: MediaStreamTrack,
  total: number,
  o: ProbeStreamOptions = {},
): Promise<number[]> {
  const sentAt: number[] = [];
  const seq0 = o.firstSequence ?? 1000;
  const ts0 = o.firstTimestamp ?? 5000;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + i * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await o.beforeProbe?.(i);
    sentAt[i] = performance.now();
    out.writeRtp(
      new RtpPacket(
        new RtpHeader({
          payloadType: 111,
          sequenceNumber: (seq0 + i) & 0xffff,
          timestamp: (ts0 + i * 960) >>> 0,
        }),
        makeProbe(i),
      ),
    );
  }
  return sentAt;
}
