import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LatencyHistogram } from '../../load/latency-histogram.js';
import { runLoad } from '../../load/load-runner.js';
import { CoreMeter } from '../proc/core-usage.js';
import type { CpuPlan } from '../proc/cpu-pin.js';
import { CpuMeter, rssBytesOf } from '../proc/proc-stats.js';
import { startWorker } from '../proc/worker-rpc.js';
import { startBenchStack } from '../stack/bench-stack.js';

export interface CapacityBenchOptions {
  quick: boolean;
  cpus: CpuPlan;
  progress: (line: string) => void;
  /** Agent for the sessions (`?agent=`); the transceiver default when absent. */
  agent?: string;
  /** Session counts to step through, in order (defaults per mode). */
  counts?: number[];
}

export interface CapacityStep {
  sessions: number;
  completed: number;
  failed: number;
  failures: Record<string, number>;
  /** Echo RTT while every session was up (the ramp excluded). */
  holdRttMs: { p50: number; p99: number; max: number; samples: number };
  lostPackets: number;
  /** Transceiver process during the hold: share of one core, and over idle per session. */
  transceiverCpuShare: number;
  cpuPercentPerSession: number;
  rssMiB: number;
  rssKiBPerSession: number;
  /** The load generator (this process) during the hold, as a share of one core. */
  generatorCpuShare: number;
  /**
   * The load generator's event-loop delay during the hold (p99, ms): RTT is
   * timed in this process, so its own stalls show up as RTT. Close to the
   * RTT p99, it says the generator, not the transceiver, set the tail.
   */
  generatorLoopDelayP99Ms: number;
  loadCoreBusyShare?: number;
  /** How busy the transceiver's core was in all (the transceiver, softirq, and anyone else's work). */
  transceiverCoreBusyShare?: number;
  pass: boolean;
  /** The same load, same core, against a bare werift peer (no edge, NATS, relay or Parley session code). */
  direct?: DirectStep;
}

export interface DirectStep {
  holdRttMs: { p50: number; p99: number; max: number; samples: number };
  lostPackets: number;
  failed: number;
  cpuShare: number;
  cpuPercentPerSession: number;
  generatorLoopDelayP99Ms: number;
  pass: boolean;
}

export interface CapacityBenchResult {
  packetRate: number;
  payloadBytes: number;
  holdSeconds: number;
  transceiverPinned: boolean;
  agent: string;
  idle: { cpuShare: number; rssMiB: number };
  steps: CapacityStep[];
  /** Largest count that passed (p99 ≤ 20 ms, no loss, no failures). */
  maxSessions: number;
  /** The same for the bare werift baseline, over the steps both ran. */
  directMaxSessions: number;
  /** What ended the search; `baseline` when bare werift failed at the same count (the limit is werift and the harness). */
  limitedBy: 'transceiver' | 'generator' | 'baseline' | 'step cap';
}

export const RTT_P99_LIMIT_MS = 20;
const IDLE_NONE = { cpuShare: 0, rssMiB: 0 };
const SETTLE_MS = 1_000;

/**
 * Transceiver capacity: concurrent echo sessions through the relay on one
 * transceiver pinned to one core, 50 packets/s each way with Opus-sized
 * payloads; counts grow until echo RTT p99 exceeds 20 ms or a packet is lost.
 */
export async function benchCapacity(o: CapacityBenchOptions): Promise<CapacityBenchResult> {
  const counts = o.counts ?? (o.quick ? [25, 50] : [25, 50, 75, 100, 150, 200, 300, 400, 500, 600, 700]);
  const holdSeconds = o.quick ? 3 : 8;
  const rampPerSecond = o.quick ? 25 : 30;
  const stack = await startBenchStack({
    capacity: Math.max(...counts) + 10,
    transceiverCpu: o.cpus.underTest,
    otherCpu: o.cpus.load[0],
  });
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const tx = stack.transceiver;
    // Idle baseline: what the process costs with no sessions.
    await new Promise((r) => setTimeout(r, 500));
    const idleMeter = new CpuMeter(tx.pid).start();
    await new Promise((r) => setTimeout(r, 1_500));
    const idle = { cpuShare: idleMeter.read().coreShare, rssMiB: rssBytesOf(tx.pid) / 2 ** 20 };
    const directPeer = await startWorker(new URL('../setup/direct-peer-worker.js', import.meta.url), {
      name: 'direct-peer',
      cpu: o.cpus.underTest,
    });
    cleanups.push(async () => {
      await directPeer.call('close').catch(() => undefined);
      await directPeer.stop();
    });
    const { url: directUrl } = await directPeer.call<{ url: string }>('start');
    const steps: CapacityStep[] = [];
    let limitedBy: CapacityBenchResult['limitedBy'] = 'step cap';
    // Clients go straight to the transceiver's port: this bench measures the transceiver, and
    // the relay (measured by the relay bench) would otherwise share the generator's core.
    const direct = { ip: '127.0.0.1', port: stack.icePort };
    let baselinePassing = true;
    for (const n of counts) {
      const step = await runStep(
        stack.edgeUrl,
        stack.token,
        tx.pid,
        n,
        rampPerSecond,
        holdSeconds,
        idle,
        o,
        direct,
      );
      // Once bare werift has failed a count, larger ones only cost time: its limit is known.
      let base: CapacityStep | undefined;
      if (baselinePassing) {
        o.progress(`  (bare werift baseline, ${n} sessions on the same core)`);
        base = await runStep(
          directUrl,
          undefined,
          directPeer.pid,
          n,
          rampPerSecond,
          holdSeconds,
          IDLE_NONE,
          o,
        );
      }
      if (base) {
        baselinePassing = base.pass;
        step.direct = {
          holdRttMs: base.holdRttMs,
          lostPackets: base.lostPackets,
          failed: base.failed,
          cpuShare: base.transceiverCpuShare,
          cpuPercentPerSession: base.cpuPercentPerSession,
          generatorLoopDelayP99Ms: base.generatorLoopDelayP99Ms,
          pass: base.pass,
        };
      }
      steps.push(step);
      o.progress(
        `  ${n} sessions: hold rtt p50 ${step.holdRttMs.p50} p99 ${step.holdRttMs.p99} ms, lost ${step.lostPackets}, ` +
          `failed ${step.failed}${step.failed ? ` ${JSON.stringify(step.failures)}` : ''}; transceiver ${pct(step.transceiverCpuShare)} of a core ` +
          `(${step.cpuPercentPerSession} %/session, ${step.rssKiBPerSession} KiB/session), its core ${pct(step.transceiverCoreBusyShare ?? Number.NaN)} busy; ` +
          `generator ${pct(step.generatorCpuShare)}, its event-loop delay p99 ${step.generatorLoopDelayP99Ms} ms → ${step.pass ? 'pass' : 'fail'}`,
      );
      if (base)
        o.progress(
          `  bare werift: hold rtt p50 ${base.holdRttMs.p50} p99 ${base.holdRttMs.p99} ms, lost ${base.lostPackets}, ` +
            `peer ${pct(base.transceiverCpuShare)} of a core → ${base.pass ? 'pass' : 'fail'}`,
        );
      if (!step.pass) {
        // The generator set the tail if it was saturated, or its own loop stalled for most of the RTT p99.
        const generatorStalled = step.generatorLoopDelayP99Ms >= 0.5 * step.holdRttMs.p99;
        limitedBy =
          base && !base.pass
            ? 'baseline'
            : (step.generatorCpuShare >= 0.9 || generatorStalled) && step.transceiverCpuShare < 0.9
              ? 'generator'
              : 'transceiver';
        break;
      }
      if (step.generatorCpuShare >= 0.95) {
        // The next step would measure the load generator, not the transceiver.
        limitedBy = 'generator';
        break;
      }
    }
    return {
      packetRate: 50,
      payloadBytes: 120,
      holdSeconds,
      transceiverPinned: tx.pinned,
      // runCall's default: the transport reflector, so the transceiver's transport cost is what is measured.
      agent: o.agent ?? 'rtp-echo',
      idle: { cpuShare: round(idle.cpuShare, 3), rssMiB: round(idle.rssMiB, 1) },
      steps,
      maxSessions: steps.filter((s) => s.pass).reduce((m, s) => Math.max(m, s.sessions), 0),
      directMaxSessions: steps.filter((s) => s.direct?.pass).reduce((m, s) => Math.max(m, s.sessions), 0),
      limitedBy,
    };
  } finally {
    for (const c of cleanups) await c();
    await stack.stop();
  }
}

async function runStep(
  edgeUrl: string,
  token: string | undefined,
  txPid: number,
  sessions: number,
  rampPerSecond: number,
  holdSeconds: number,
  idle: { cpuShare: number; rssMiB: number },
  o: CapacityBenchOptions,
  connectTo?: { ip: string; port: number },
): Promise<CapacityStep> {
  o.progress(`transceiver: ${sessions} sessions (ramp ${rampPerSecond}/s, hold ${holdSeconds} s)`);
  const rampSeconds = sessions / rampPerSecond;
  const hold = new LatencyHistogram();
  let holding = false;
  let holdStarted = false;
  let txMeter: CpuMeter | undefined;
  let core: CoreMeter | undefined;
  let txCore: CoreMeter | undefined;
  let genCpu0 = process.cpuUsage();
  let genT0 = 0;
  let reading:
    | { tx: number; gen: number; rss: number; core?: number; txCore?: number; loopP99: number }
    | undefined;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const endHold = () => {
    if (!holding || !txMeter) return;
    holding = false;
    const g = process.cpuUsage(genCpu0);
    loop.disable();
    reading = {
      loopP99: loop.percentile(99) / 1e6,
      tx: txMeter.read().coreShare,
      gen: (g.user + g.system) / 1000 / (performance.now() - genT0),
      rss: rssBytesOf(txPid),
      ...(core && { core: core.busyShare() }),
      ...(txCore && { txCore: txCore.busyShare() }),
    };
  };
  const startHold = () => {
    holding = true;
    txMeter = new CpuMeter(txPid).start();
    core = o.cpus.load[0] !== undefined ? new CoreMeter(o.cpus.load[0]).begin() : undefined;
    txCore = o.cpus.underTest !== undefined ? new CoreMeter(o.cpus.underTest).begin() : undefined;
    genCpu0 = process.cpuUsage();
    genT0 = performance.now();
    loop.reset();
    loop.enable();
    setTimeout(endHold, holdSeconds * 1000);
  };
  const summary = await runLoad({
    edgeUrl,
    token,
    sessions,
    rampPerSecond,
    // Every session stays up through the ramp and the hold.
    durationSeconds: rampSeconds + holdSeconds + SETTLE_MS / 1000 + 2,
    setupTimeoutMs: 20_000,
    agent: o.agent,
    connectTo,
    progressIntervalMs: 250,
    onEcho: (rtt) => {
      if (holding) hold.record(rtt);
    },
    onProgress: (p) => {
      // Every session is up, or up or failed: failures already fail the step, the rest is still measured.
      if (!holdStarted && p.up > 0 && p.up + p.failed >= sessions) {
        holdStarted = true;
        // Let the last handshakes and first packets settle before measuring steady state.
        setTimeout(startHold, SETTLE_MS);
      }
      if (holding && p.completed > 0) endHold();
    },
  });

  endHold();
  const txShare = reading?.tx ?? Number.NaN;
  const failures = summary.failures;
  const step: CapacityStep = {
    sessions,
    completed: summary.sessions.completed,
    failed: summary.sessions.failed,
    failures,
    holdRttMs: {
      p50: round(hold.percentile(50)),
      p99: round(hold.percentile(99)),
      max: round(hold.max),
      samples: hold.count,
    },
    lostPackets: summary.packets.lost,
    transceiverCpuShare: round(txShare, 3),
    cpuPercentPerSession: round((100 * (txShare - idle.cpuShare)) / sessions, 3),
    rssMiB: round((reading?.rss ?? Number.NaN) / 2 ** 20, 1),
    rssKiBPerSession: round(((reading?.rss ?? Number.NaN) / 2 ** 20 - idle.rssMiB) * (1024 / sessions), 1),
    generatorCpuShare: round(reading?.gen ?? Number.NaN, 3),
    generatorLoopDelayP99Ms: round(reading?.loopP99 ?? Number.NaN),
    ...(reading?.core !== undefined && { loadCoreBusyShare: round(reading.core, 3) }),
    ...(reading?.txCore !== undefined && { transceiverCoreBusyShare: round(reading.txCore, 3) }),
    pass: false,
  };
  step.pass =
    hold.count > 0 && step.holdRttMs.p99 <= RTT_P99_LIMIT_MS && step.lostPackets === 0 && step.failed === 0;
  return step;
}

function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return Number.NaN;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function pct(share: number): string {
  return `${Math.round(share * 100)} %`;
}
