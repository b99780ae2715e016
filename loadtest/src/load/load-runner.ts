import { tuneWeriftForProcess } from '@parley/shared/webrtc/werift-tuning.js';
import { runCall } from '../call/call-client.js';
import { round } from '../call/stats.js';
import { LatencyHistogram } from './latency-histogram.js';
import { failureReason, LoadAggregate, type LoadSummary } from './load-summary.js';

export interface LoadOptions {
  /** Edge base URL, e.g. http://127.0.0.1:8080 */
  edgeUrl: string;
  token?: string;
  /** Calls to start in all. */
  sessions: number;
  /** Calls started per second. */
  rampPerSecond: number;
  /** Seconds of audio each call sends once it is connected. */
  durationSeconds: number;
  agent?: string;
  /** See CallOptions.connectTo. */
  connectTo?: { ip: string; port: number };
  /** Packets per second each way per call (50 = 20 ms Opus frames). */
  packetRate?: number;
  payloadBytes?: number;
  /** Per call: give up on setup after this long. */
  setupTimeoutMs?: number;
  /**
   * Hard stop for the whole run: calls still going are counted as
   * `deadline` failures. Default: ramp + setup timeout + duration + 15 s.
   */
  deadlineMs?: number;
  progressIntervalMs?: number;
  onProgress?: (p: LoadProgress) => void;
  /** Every echo's RTT as it arrives, for callers that window samples themselves (the capacity bench). */
  onEcho?: (rttMs: number) => void;
  /** Monotonic ms; injectable for tests. */
  now?: () => number;
}

export interface LoadProgress {
  elapsedMs: number;
  target: number;
  started: number;
  /** Connected calls whose media is still running. */
  up: number;
  completed: number;
  failed: number;
  /** Median echo RTT since the last progress report (NaN when no echo came back). */
  rttMs: number;
}

export const LOAD_LIMITS = {
  sessions: { min: 1, max: 10_000 },
  rampPerSecond: { min: 0.1, max: 1_000 },
  durationSeconds: { min: 0.1, max: 3_600 },
  packetRate: { min: 1, max: 1_000 },
} as const;

/** Throws with a message naming the bad option; the CLI prints it. */
export function checkLoadOptions(o: Pick<LoadOptions, keyof typeof LOAD_LIMITS>): void {
  for (const [key, { min, max }] of Object.entries(LOAD_LIMITS)) {
    const v = o[key as keyof typeof LOAD_LIMITS];
    if (v === undefined && key === 'packetRate') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new RangeError(`${key} must be a number from ${min} to ${max} (got ${v})`);
    }
  }
  if (!Number.isInteger(o.sessions))
    throw new RangeError(`sessions must be a whole number (got ${o.sessions})`);
}

/**
 * Opens real WebRTC calls (werift) through an edge and its relay at a steady
 * arrival rate, keeps each one sending audio for the duration, and pools
 * setup times, echo RTTs, loss and failures. Bounded in count (`sessions`)
 * and time (`deadlineMs`).
 */
export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  checkLoadOptions(opts);
  // The load generator is werift too: cheaper setups leave more of its CPU for media.
  await tuneWeriftForProcess();
  const now = opts.now ?? (() => performance.now());
  const setupTimeoutMs = opts.setupTimeoutMs ?? 15_000;
  const interval = 1000 / opts.rampPerSecond;
  const rampMs = (opts.sessions - 1) * interval;
  const deadlineMs = opts.deadlineMs ?? rampMs + setupTimeoutMs + opts.durationSeconds * 1000 + 15_000;
  const agg = new LoadAggregate();
  const window = new LatencyHistogram();
  let up = 0;
  const t0 = now();

  const progress = (): LoadProgress => ({
    elapsedMs: round(now() - t0, 0),
    target: opts.sessions,
    started: agg.started,
    up,
    completed: agg.completed,
    failed: agg.failed,
    rttMs: round(window.percentile(50)),
  });
  const ticker = opts.onProgress
    ? setInterval(() => {
        opts.onProgress?.(progress());
        window.reset();
      }, opts.progressIntervalMs ?? 1_000)
    : undefined;

  const one = async (): Promise<void> => {
    agg.started++;
    let connected = false;
    try {
      const r = await runCall({
        edgeUrl: opts.edgeUrl,
        token: opts.token,
        seconds: opts.durationSeconds,
        packetRate: opts.packetRate,
        payloadBytes: opts.payloadBytes,
        setupTimeoutMs,
        agent: opts.agent,
        connectTo: opts.connectTo,
        onConnected: (s) => {
          connected = true;
          up++;
          agg.recordSetup(s);
        },
        onEcho: (rtt) => {
          agg.recordEcho(rtt);
          window.record(rtt);
          opts.onEcho?.(rtt);
        },
      });
      agg.recordSuccess(r);
    } catch (err) {
      agg.recordFailure(failureReason(err), (err as Error).message);
    } finally {
      if (connected) up--;
    }
  };

  const calls: Promise<void>[] = [];
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    deadlineTimer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  const schedule = async (): Promise<void> => {
    for (let i = 0; i < opts.sessions; i++) {
      const wait = t0 + i * interval - now();
      if (wait > 0) await sleep(wait);
      if (now() - t0 >= deadlineMs) return;
      calls.push(one());
    }
  };
  try {
    const outcome = await Promise.race([
      schedule().then(async () => {
        await Promise.all(calls);
        return 'done' as const;
      }),
      deadline,
    ]);
    const summary = agg.summary(now() - t0);
    if (outcome === 'deadline') {
      // Calls still running past the deadline count as failed; their late results are ignored.
      const unfinished = summary.sessions.started - summary.sessions.completed - summary.sessions.failed;
      if (unfinished > 0) {
        summary.sessions.failed += unfinished;
        summary.failures.deadline = unfinished;
        summary.failureExamples.deadline = `still running after the ${round(deadlineMs, 0)} ms deadline`;
      }
    }
    return summary;
  } finally {
    clearTimeout(deadlineTimer);
    if (ticker) clearInterval(ticker);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
