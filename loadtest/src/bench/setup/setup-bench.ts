import { type CallResult, runCall } from '../../call/call-client.js';
import { percentile } from '../../call/stats.js';
import { failureReason, SETUP_STAGES, type SetupStage } from '../../load/load-summary.js';
import type { CpuPlan } from '../proc/cpu-pin.js';
import { CpuMeter } from '../proc/proc-stats.js';
import { startWorker } from '../proc/worker-rpc.js';
import { type BenchStack, startBenchStack } from '../stack/bench-stack.js';
import { CHROMIUM, launchBrowserCaller } from './browser-setup.js';

export interface SetupBenchOptions {
  quick: boolean;
  cpus: CpuPlan;
  progress: (line: string) => void;
  /** Transceiver settings for the admission-off burst (what turns admission control off). */
  admissionOffEnv: Record<string, string>;
}

export type StageStats = Record<SetupStage, { p50: number; p95: number }>;

export interface SequentialResult {
  /** Who places the calls: the werift client (runCall) or headless Chromium. */
  client: 'werift' | 'chromium';
  calls: number;
  full: { stages: StageStats; failures: Record<string, number> };
  direct: { stages: StageStats; failures: Record<string, number> };
  /** full / direct per stage. */
  ratio: StageStats;
  /** Transceiver CPU per call (setup, 5 echoed packets, close), ms. */
  transceiverCpuMsPerCall: number;
  /**
   * The DTLS handshake alone (DTLS up minus ICE connected, per call): where a
   * first ClientHello the server missed shows, as one client retransmit timer.
   */
  dtlsAfterIce?: { full: { p50: number; p95: number }; direct: { p50: number; p95: number } };
}

export type BrowserSequential = SequentialResult | { client: 'chromium'; skipped: string };

export interface BurstResult {
  admission: 'on' | 'off';
  calls: number;
  /** First audio of each call, ms from the moment the burst started. */
  completionMs: { p50: number; p95: number; max: number };
  stages: StageStats;
  failures: Record<string, number>;
  transceiverCpuMs: number;
}

export interface SetupBenchResult {
  sequential: SequentialResult;
  /** The same comparison from headless Chromium, when it is installed. */
  browser: BrowserSequential;
  bursts: BurstResult[];
  transceiverPinned: boolean;
}

type Timed = Pick<CallResult, 'setupMs'>;
type Outcome = { ok: true; r: Timed } | { ok: false; reason: string };

async function call(edgeUrl: string, token: string | undefined, setupTimeoutMs = 15_000): Promise<Outcome> {
  try {
    // 5 packets: enough to see the first echo, short enough to time mostly setup.
    return { ok: true, r: await runCall({ edgeUrl, token, seconds: 0.1, setupTimeoutMs }) };
  } catch (err) {
    return { ok: false, reason: failureReason(err) };
  }
}

function stageStats(results: Timed[]): StageStats {
  return Object.fromEntries(
    SETUP_STAGES.map((s) => {
      const v = results.map((r) => r.setupMs[s]);
      return [s, { p50: round(percentile(v, 50)), p95: round(percentile(v, 95)) }];
    }),
  ) as StageStats;
}

function failures(outcomes: Outcome[]): Record<string, number> {
  const f: Record<string, number> = {};
  for (const o of outcomes) if (!o.ok) f[o.reason] = (f[o.reason] ?? 0) + 1;
  return f;
}

const oks = (outcomes: Outcome[]) => outcomes.flatMap((o) => (o.ok ? [o.r] : []));

/**
 * Setup latency: sequential calls through the full stack (edge, NATS,
 * transceiver, relay) alternating with calls to a bare werift peer, then a
 * burst of simultaneous calls with setup admission on and off.
 */
export async function benchSetup(o: SetupBenchOptions): Promise<SetupBenchResult> {
  const n = o.quick ? 20 : 40;
  const burst = 50;
  const stack = await startBenchStack({
    capacity: 2 * burst + 20,
    transceiverCpu: o.cpus.underTest,
    otherCpu: o.cpus.load[0],
  });
  const direct = await startWorker(new URL('./direct-peer-worker.js', import.meta.url), {
    name: 'direct-peer',
    cpu: o.cpus.underTest,
  });
  try {
    const { url: directUrl } = await direct.call<{ url: string }>('start');
    // Warm both paths (JIT, the certificate each side makes once).
    await call(stack.edgeUrl, stack.token);
    await call(directUrl, undefined);

    o.progress(
      `setup: ${n} sequential calls through the full stack, alternating with ${n} to a bare werift peer`,
    );
    const full: Outcome[] = [];
    const bare: Outcome[] = [];
    let txCpu = 0;
    for (let i = 0; i < n; i++) {
      const m = new CpuMeter(stack.transceiver.pid).start();
      full.push(await call(stack.edgeUrl, stack.token));
      txCpu += m.read().cpuSeconds;
      bare.push(await call(directUrl, undefined));
    }
    const sequential = compare('werift', n, full, bare, txCpu);
    report(sequential, o.progress);
    const browser = await browserSequential(stack, directUrl, o.quick ? 10 : 20, o.progress);

    const bursts: BurstResult[] = [];
    bursts.push(await runBurst(stack, burst, 'on', o.progress));
    await stack.restartTransceiver(o.admissionOffEnv);
    await call(stack.edgeUrl, stack.token);
    bursts.push(await runBurst(stack, burst, 'off', o.progress));
    return { sequential, browser, bursts, transceiverPinned: stack.transceiver.pinned };
  } finally {
    await direct.call('close').catch(() => undefined);
    await direct.stop();
    await stack.stop();
  }
}

function compare(
  client: SequentialResult['client'],
  calls: number,
  full: Outcome[],
  bare: Outcome[],
  txCpuSeconds: number,
): SequentialResult {
  const fullStats = stageStats(oks(full));
  const bareStats = stageStats(oks(bare));
  return {
    client,
    calls,
    full: { stages: fullStats, failures: failures(full) },
    direct: { stages: bareStats, failures: failures(bare) },
    ratio: Object.fromEntries(
      SETUP_STAGES.map((s) => [
        s,
        { p50: round(fullStats[s].p50 / bareStats[s].p50), p95: round(fullStats[s].p95 / bareStats[s].p95) },
      ]),
    ) as StageStats,
    transceiverCpuMsPerCall: round((txCpuSeconds * 1000) / calls),
    dtlsAfterIce: { full: handshakeStats(oks(full)), direct: handshakeStats(oks(bare)) },
  };
}

function handshakeStats(results: Timed[]): { p50: number; p95: number } {
  const v = results.map((r) => r.setupMs.dtlsConnected - r.setupMs.iceConnected);
  return { p50: round(percentile(v, 50)), p95: round(percentile(v, 95)) };
}

function report(r: SequentialResult, progress: (line: string) => void): void {
  const f = r.full.stages.firstAudio;
  const d = r.direct.stages.firstAudio;
  const h = r.dtlsAfterIce;
  progress(
    `  ${r.client}: first audio p50/p95 full stack ${f.p50}/${f.p95} ms, direct werift ${d.p50}/${d.p95} ms; ` +
      (h
        ? `DTLS after ICE p50/p95 full stack ${h.full.p50}/${h.full.p95} ms, direct ${h.direct.p50}/${h.direct.p95} ms; `
        : '') +
      `transceiver CPU ${r.transceiverCpuMsPerCall} ms per call`,
  );
}

/** Sequential calls from headless Chromium, alternating full stack and direct werift. */
async function browserSequential(
  stack: BenchStack,
  directUrl: string,
  n: number,
  progress: (line: string) => void,
): Promise<BrowserSequential> {
  const browser = await launchBrowserCaller();
  if (!browser)
    return { client: 'chromium', skipped: `Chromium not found at ${CHROMIUM} (or playwright-core missing)` };
  progress(`setup: ${n} sequential calls from headless Chromium each way`);
  const one = async (url: string, token: string | undefined): Promise<Outcome> => {
    try {
      return { ok: true, r: { setupMs: await browser.call(url, token) } };
    } catch (err) {
      return { ok: false, reason: (err as Error).message.split('\n')[0]?.slice(0, 80) ?? 'error' };
    }
  };
  try {
    await one(stack.edgeUrl, stack.token);
    await one(directUrl, undefined);
    const full: Outcome[] = [];
    const bare: Outcome[] = [];
    let txCpu = 0;
    for (let i = 0; i < n; i++) {
      const m = new CpuMeter(stack.transceiver.pid).start();
      full.push(await one(stack.edgeUrl, stack.token));
      txCpu += m.read().cpuSeconds;
      bare.push(await one(directUrl, undefined));
    }
    const r = compare('chromium', n, full, bare, txCpu);
    report(r, progress);
    return r;
  } finally {
    await browser.close();
  }
}

async function runBurst(
  stack: BenchStack,
  calls: number,
  admission: 'on' | 'off',
  progress: (line: string) => void,
): Promise<BurstResult> {
  progress(`setup: burst of ${calls} simultaneous calls, setup admission ${admission}`);
  const meter = new CpuMeter(stack.transceiver.pid).start();
  const outcomes = await Promise.all(
    Array.from({ length: calls }, () => call(stack.edgeUrl, stack.token, 20_000)),
  );
  const done = oks(outcomes);
  const completion = done.map((r) => r.setupMs.firstAudio);
  const result: BurstResult = {
    admission,
    calls,
    completionMs: {
      p50: round(percentile(completion, 50)),
      p95: round(percentile(completion, 95)),
      max: round(Math.max(...completion)),
    },
    stages: stageStats(done),
    failures: failures(outcomes),
    transceiverCpuMs: round(meter.read().cpuSeconds * 1000),
  };
  progress(
    `  completion p50 ${result.completionMs.p50} ms, p95 ${result.completionMs.p95} ms, max ${result.completionMs.max} ms; ` +
      `failures ${JSON.stringify(result.failures)}`,
  );
  return result;
}

function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return Number.NaN;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
