import { type Histogram, metrics } from '@opentelemetry/api';

/**
 * One datagram in FORWARD_SAMPLE_EVERY is timed (a power of two, so the
 * hot path tests it with a mask): the histogram then costs one counter
 * increment per datagram and one clock read and record per 64.
 */
export const FORWARD_SAMPLE_EVERY = 64;
export const FORWARD_SAMPLE_MASK = FORWARD_SAMPLE_EVERY - 1;

/** Microseconds to tens of milliseconds: a healthy relay sits in the lowest buckets, a stalled loop in the top ones. */
export const FORWARD_BUCKETS_S = [
  0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
  0.05,
];

let histogram: Histogram | undefined;

/**
 * parley_relay_forward_seconds: how long a sampled datagram spent inside the
 * relay, from the moment its socket handed it (or its batch) to JavaScript
 * until it was handed to the outgoing socket, on the monotonic clock. Time
 * queued in the kernel's receive buffer before that is not in it (the
 * relay bench measures the whole path one way); a busy event loop shows
 * here as the tail of the batch waiting behind its head.
 */
export function recordForwardSeconds(seconds: number, direction: 'up' | 'down'): void {
  (histogram ?? createForwardHistogram()).record(seconds, direction === 'up' ? UP : DOWN);
}

/**
 * Creates the instrument now (the relay calls it at start, after the
 * process registered its meter provider): creating it lazily under traffic
 * deoptimized the forwarding loop once, mid-stream.
 */
export function createForwardHistogram(): Histogram {
  histogram ??= metrics.getMeter('parley.relay').createHistogram('parley_relay_forward_seconds', {
    description:
      'Sampled (1 in 64) time from a datagram reaching the relay process to its send, by direction (up = client to transceiver)',
    unit: 's',
    advice: { explicitBucketBoundaries: FORWARD_BUCKETS_S },
  });
  return histogram;
}

/**
 * Drops the instrument and creates it again from the meter provider now
 * registered: a relay that starts forwarding before its telemetry (the
 * `parley relay` process) created the first one from the API's no-op meter.
 */
export function recreateForwardHistogram(): void {
  histogram = undefined;
  createForwardHistogram();
}

// One attributes object per direction, allocated once.
const UP = { direction: 'up' } as const;
const DOWN = { direction: 'down' } as const;
