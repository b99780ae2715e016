import type { CallResult } from '../call/call-client.js';
import { round } from '../call/stats.js';
import { LatencyHistogram } from './latency-histogram.js';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export const SETUP_STAGES = ['signaling', 'iceConnected', 'dtlsConnected', 'firstAudio'] as const;
export type SetupStage = (typeof SETUP_STAGES)[number];

export interface LoadSummary {
  sessions: { started: number; completed: number; failed: number };
  /** Each stage in ms from the start of its call, over the calls that reached it. */
  setupMs: Record<SetupStage, Percentiles>;
  /** Over every echo of every call. */
  rttMs: Percentiles & { max: number; samples: number };
  /** Per-call interarrival jitter of the echoes. */
  jitterMs: { p50: number; max: number };
  packets: { sent: number; received: number; lost: number; lossPercent: number };
  /** Failed calls by reason, e.g. `signaling 503`, `dtls`, `deadline`. */
  failures: Record<string, number>;
  /** A few failure messages, one per reason, to say why. */
  failureExamples: Record<string, string>;
  elapsedMs: number;
}

/** The reason key for a failed call: its stage, and the HTTP status for signaling errors. */
export function failureReason(err: unknown): string {
  const e = err as { stage?: unknown; status?: unknown };
  if (typeof e?.stage === 'string') {
    return typeof e.status === 'number' ? `${e.stage} ${e.status}` : e.stage;
  }
  return 'error';
}

/**
 * Pools the outcomes of many calls into one summary. Pure: the runner feeds
 * it results, failures and echo samples; nothing here touches the network.
 */
export class LoadAggregate {
  readonly rtt = new LatencyHistogram();
  private readonly stages = new Map<SetupStage, LatencyHistogram>(
    SETUP_STAGES.map((s) => [s, new LatencyHistogram()]),
  );
  private readonly jitter = new LatencyHistogram();
  private readonly failures = new Map<string, number>();
  private readonly examples = new Map<string, string>();
  started = 0;
  completed = 0;
  failed = 0;
  private sent = 0;
  private received = 0;

  /** Setup stages are recorded when a call connects, so a call that fails later still counts its setup. */
  recordSetup(setupMs: Partial<Record<SetupStage, number>>): void {
    for (const s of SETUP_STAGES) {
      const v = setupMs[s];
      if (v !== undefined && Number.isFinite(v)) this.stages.get(s)?.record(v);
    }
  }

  recordEcho(rttMs: number): void {
    this.rtt.record(rttMs);
  }

  recordSuccess(r: CallResult): void {
    this.completed++;
    this.stages.get('firstAudio')?.record(r.setupMs.firstAudio);
    this.jitter.record(r.jitterMs);
    this.sent += r.packets.sent;
    this.received += r.packets.received;
  }

  recordFailure(reason: string, message: string): void {
    this.failed++;
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    if (!this.examples.has(reason)) this.examples.set(reason, message.slice(0, 200));
  }

  summary(elapsedMs: number): LoadSummary {
    const pct = (h: LatencyHistogram): Percentiles => {
      const s = h.summary();
      return { p50: round(s.p50), p95: round(s.p95), p99: round(s.p99) };
    };
    const lost = this.sent - this.received;
    return {
      sessions: { started: this.started, completed: this.completed, failed: this.failed },
      setupMs: Object.fromEntries(
        SETUP_STAGES.map((s) => [s, pct(this.stages.get(s) as LatencyHistogram)]),
      ) as Record<SetupStage, Percentiles>,
      rttMs: { ...pct(this.rtt), max: round(this.rtt.max), samples: this.rtt.count },
      jitterMs: { p50: round(this.jitter.percentile(50)), max: round(this.jitter.max) },
      packets: {
        sent: this.sent,
        received: this.received,
        lost,
        lossPercent: this.sent === 0 ? 0 : round((100 * lost) / this.sent, 3),
      },
      failures: Object.fromEntries(this.failures),
      failureExamples: Object.fromEntries(this.examples),
      elapsedMs: round(elapsedMs, 0),
    };
  }
}
