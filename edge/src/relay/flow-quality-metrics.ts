import { type Histogram, metrics } from '@opentelemetry/api';
import type { RtpQualitySummary } from './rtp-quality.js';

/**
 * Per-leg quality histograms, recorded once per flow when it ends (never
 * per packet). `leg` says which side of the relay: `client` is the user's
 * network (client -> relay, measured on the up direction), `transceiver`
 * is ours (transceiver -> relay, the down direction), which is what tells
 * "the user's Wi-Fi" from "our backbone".
 */
interface Instruments {
  loss: Histogram;
  jitter: Histogram;
  reordered: Histogram;
}

let instruments: Instruments | undefined;

function get(): Instruments {
  if (instruments) return instruments;
  const meter = metrics.getMeter('parley.relay');
  instruments = {
    loss: meter.createHistogram('parley_relay_flow_loss_ratio', {
      description: 'Per flow, RTP packets lost / expected on one leg (sequence numbers in the clear header)',
      advice: { explicitBucketBoundaries: [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1] },
    }),
    jitter: meter.createHistogram('parley_relay_flow_jitter_seconds', {
      description:
        'Per flow, RFC 3550 interarrival jitter at the end of the flow on one leg (48 kHz clock assumed)',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2] },
    }),
    reordered: meter.createHistogram('parley_relay_flow_reordered_ratio', {
      description: 'Per flow, RTP packets that arrived after a later one / received, on one leg',
      advice: { explicitBucketBoundaries: [0, 0.001, 0.01, 0.05, 0.1, 0.5, 1] },
    }),
  };
  return instruments;
}

/** Forget the instruments: the next flow's end creates them from the meter provider registered by then. */
export function resetFlowQualityInstruments(): void {
  instruments = undefined;
}

export function recordFlowQuality(up: RtpQualitySummary, down: RtpQualitySummary): void {
  const i = get();
  for (const [leg, s] of [
    ['client', up],
    ['transceiver', down],
  ] as const) {
    if (s.packets === 0) continue;
    const attrs = { leg };
    i.loss.record(s.expected > 0 ? s.lost / s.expected : 0, attrs);
    i.jitter.record(s.jitterMs / 1000, attrs);
    i.reordered.record(s.reordered / s.packets, attrs);
  }
}
