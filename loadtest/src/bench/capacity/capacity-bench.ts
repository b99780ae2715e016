import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import {
  DTLS_SRTP_AEAD_AES_128_GCM,
  DTLS_SRTP_AES128_CM_HMAC_SHA1_80,
} from '@parley/shared/srtp/profiles.js';
import { LatencyHistogram } from '../../load/latency-histogram.js';
import { CoreMeter } from '../proc/core-usage.js';
import type { CpuPlan } from '../proc/cpu-pin.js';
import {
  type CpuProfile,
  formatProfileSummary,
  type ProfileWindow,
  shortUrl,
  summarizeProfile,
} from '../proc/cpu-profile.js';
import { CpuMeter, rssBytesOf } from '../proc/proc-stats.js';
import { startWorker } from '../proc/worker-rpc.js';
import { startBenchStack } from '../stack/bench-stack.js';
import { EchoFleet } from './echo-fleet.js';
import { MediaPump } from './media-pump.js';

export interface CapacityBenchOptions {
  quick: boolean;
  cpus: CpuPlan;
  progress: (line: string) => void;
  /** Agent for the sessions (`?agent=`); the transceiver default when absent. */
  agent?: string;
  /** Session counts to step through, in order (defaults per mode). */
  counts?: number[];
  /**
   * Profile the hold phases into this directory: the generator (this
   * process) one profile per step, the transceiver one for its life, read
   * for the hold windows only. Profiling costs CPU: numbers from such a run
   * are for finding costs, not for the table.
   */
  profileDir?: string;
  /** Run every count even after one fails (maxSessions is then the largest passing count). */
  everyCount?: boolean;
  /** The one DTLS-SRTP profile the clients offer; both (the transceiver picks) when absent. */
  srtpProfile?: 'gcm' | 'aes-cm';
}

export interface CapacityStep {
  sessions: number;
  completed: number;
  failed: number;
  failures: Record<string, number>;
  /** How long the ramp took (every session up or failed). */
  rampSeconds: number;
  /** Sessions per negotiated SRTP profile. */
  srtpProfiles?: Record<string, number>;
  /**
   * 100 ms windows of the hold with an echo over the RTT bar: how many, and
   * the worst few (offset in the hold, max RTT). A few windows mean stalls,
   * most of them saturation.
   */
  slowWindows?: { count: number; of: number; worst: { atS: number; rttMs: number }[] };
  /** Echo RTT while every session was up (the ramp excluded). */
  holdRttMs: { p50: number; p99: number; max: number; samples: number };
  /** Probes never echoed, over the sessions' whole media life (ramp and hold). */
  lostPackets: number;
  packetsSent: number;
  holdPacketsSent: number;
  /** Echoes the generator authenticated and decrypted (a sample, see VERIFY_EVERY). */
  echoesVerified: number;
  /** Echoes that failed SRTP authentication, or carried another probe than their timestamp named: fails the step. */
  echoesRejected: number;
  /**
   * Send slots (1 ms phases of the 20 ms frame) the generator ran late or
   * skipped during the hold: non-zero means its own clock slipped.
   */
  lateSlots: number;
  /** Transceiver process during the hold: share of one core, and over idle per session. */
  transceiverCpuShare: number;
  cpuPercentPerSession: number;
  rssMiB: number;
  rssKiBPerSession: number;
  /** The load generator (this process) during the hold, as a share of one core. */
  generatorCpuShare: number;
  /** The part of it in the kernel (sendmmsg/recvmmsg, and loopback delivery to the peer). */
  generatorSystemShare: number;
  /**
   * The load generator's event-loop delay during the hold (p99, ms): RTT is
   * timed in this process, so its own stalls show up as RTT. Close to the
   * RTT p99, it says the generator, not the transceiver, set the tail.
   */
  generatorLoopDelayP99Ms: number;
  /** Its longest event-loop stall in the hold (ms): a single one can set the RTT p99. */
  generatorLoopDelayMaxMs?: number;
  /** Its garbage collections in the hold. */
  generatorGc?: { count: number; totalMs: number; maxMs: number; major: number; maxMajorMs: number };
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
  /**
   * The engines the transceiver reported when ready (UDP I/O, SRTP, Opus):
   * a native addon that failed to load falls back to JS and moves every
   * figure, so a run says which it measured.
   */
  engines: Record<string, string>;
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
const SETUP_TIMEOUT_MS = 20_000;
/**
 * Bare werift is not run above this: it has passed at most 50 on this
 * hardware, and beyond a few hundred its setups alone outlast the step.
 */
const BASELINE_MAX_SESSIONS = 200;
/**
 * The generator authenticates and decrypts one echo in this many (and every
 * RTCP packet); the rest are matched by their clear RTP timestamp. Halves
 * its SRTP work, the largest part of its per-packet cost after the kernel.
 */
const VERIFY_EVERY = 4;
/** Setups in flight at once: the transceiver admits 16 concurrent setups by default and queues the rest. */
const SETUP_CONCURRENCY = 16;

/**
 * Transceiver capacity: concurrent echo sessions through the relay on one
 * transceiver pinned to one core, 50 packets/s each way with Opus-sized
 * payloads; counts grow until echo RTT p99 exceeds 20 ms or a packet is lost.
 */
export async function benchCapacity(o: CapacityBenchOptions): Promise<CapacityBenchResult> {
  const counts = o.counts ?? (o.quick ? [25, 50] : [25, 50, 75, 100, 150, 200, 300, 400, 500, 600, 700]);
  const holdSeconds = o.quick ? 3 : 8;
  const rampPerSecond = o.quick ? 25 : 30;
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const stack = await startBenchStack({
    capacity: Math.max(...counts) + 10,
    transceiverCpu: o.cpus.underTest,
    otherCpu: o.cpus.load[0],
    ...(o.profileDir && {
      transceiverExecArgv: ['--cpu-prof', '--cpu-prof-dir', join(o.profileDir, 'transceiver')],
    }),
  });
  const holdWindows: ProfileWindow[] = [];
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
    let failedOnce = false;
    for (const n of counts) {
      const step = await runStep(
        {
          label: 'transceiver',
          edgeUrl: stack.edgeUrl,
          token: stack.token,
          pid: tx.pid,
          idle,
          connectTo: direct,
          holdWindows,
        },
        n,
        rampPerSecond,
        holdSeconds,
        o,
      );
      // Once bare werift has failed a count, larger ones only cost time: its limit is known.
      let base: CapacityStep | undefined;
      if (baselinePassing && n <= BASELINE_MAX_SESSIONS) {
        o.progress(`  (bare werift baseline, ${n} sessions on the same core)`);
        base = await runStep(
          { label: 'bare werift', edgeUrl: directUrl, pid: directPeer.pid, idle: IDLE_NONE },
          n,
          rampPerSecond,
          holdSeconds,
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
        `  ${n} sessions (ramp ${step.rampSeconds} s, ${JSON.stringify(step.srtpProfiles)}): hold rtt p50 ${step.holdRttMs.p50} p99 ${step.holdRttMs.p99} ms, ` +
          `lost ${step.lostPackets}/${step.packetsSent}, rejected ${step.echoesRejected}/${step.echoesVerified} verified, failed ${step.failed}${step.failed ? ` ${JSON.stringify(step.failures)}` : ''}; ` +
          `transceiver ${pct(step.transceiverCpuShare)} of a core (${step.cpuPercentPerSession} %/session, ${step.rssKiBPerSession} KiB/session), ` +
          `its core ${pct(step.transceiverCoreBusyShare ?? Number.NaN)} busy; generator ${pct(step.generatorCpuShare)} ` +
          `(${pct(step.generatorSystemShare)} kernel), loop delay p99 ${step.generatorLoopDelayP99Ms} max ${step.generatorLoopDelayMaxMs} ms, ` +
          `GC ${step.generatorGc?.count}× max ${step.generatorGc?.maxMs} ms (${step.generatorGc?.major} major, max ${step.generatorGc?.maxMajorMs} ms), late slots ${step.lateSlots}, ` +
          `its core ${pct(step.loadCoreBusyShare ?? Number.NaN)} busy → ${step.pass ? 'pass' : 'fail'}`,
      );
      if (step.slowWindows && step.slowWindows.count > 0)
        o.progress(
          `  slow 100 ms windows: ${step.slowWindows.count}/${step.slowWindows.of}, worst ` +
            step.slowWindows.worst.map((w) => `+${w.atS} s ${w.rttMs} ms`).join(', '),
        );
      if (base)
        o.progress(
          `  bare werift: hold rtt p50 ${base.holdRttMs.p50} p99 ${base.holdRttMs.p99} ms, lost ${base.lostPackets}/${base.packetsSent}, ` +
            `failed ${base.failed}, peer ${pct(base.transceiverCpuShare)} of a core; generator ${pct(base.generatorCpuShare)} → ${base.pass ? 'pass' : 'fail'}`,
        );
      if (!step.pass && !failedOnce) {
        failedOnce = true;
        // The generator set the tail if it was saturated, or its own loop stalled for most of the RTT p99.
        const generatorStalled = step.generatorLoopDelayP99Ms >= 0.5 * step.holdRttMs.p99;
        limitedBy =
          base && !base.pass
            ? 'baseline'
            : (step.generatorCpuShare >= 0.9 || generatorStalled) && step.transceiverCpuShare < 0.9
              ? 'generator'
              : 'transceiver';
      }
      // On a shared machine one noisy step can fail a count the transceiver holds: --every-count goes on.
      if (!step.pass && !o.everyCount) break;
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
      engines: transceiverEngines(tx.info),
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
    if (o.profileDir) reportTransceiverProfile(join(o.profileDir, 'transceiver'), holdWindows, o.progress);
  }
}

/** The `engines` object of a transceiver's ready message, as strings (empty if it sent none). */
export function transceiverEngines(info: Record<string, unknown>): Record<string, string> {
  const e = info.engines;
  if (typeof e !== 'object' || e === null) return {};
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

/** The transceiver's --cpu-prof profile, read for the transceiver steps' hold windows. */
function reportTransceiverProfile(
  dir: string,
  windows: ProfileWindow[],
  progress: (l: string) => void,
): void {
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    for (const f of files) {
      const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
      progress(
        formatProfileSummary(
          `transceiver profile (hold phases) ${join(dir, f)}`,
          summarizeProfile(profile, windows),
          25,
        ),
      );
    }
    if (files.length === 0) progress(`no transceiver profile in ${dir} (did it exit cleanly?)`);
  } catch (err) {
    progress(`transceiver profile unreadable: ${(err as Error).message}`);
  }
}

/** Profiles this process (the generator) from start() to stop(), written as a .cpuprofile. */
class GeneratorProfiler {
  private readonly session = new Session();
  private started?: Promise<void>;

  start(): void {
    this.session.connect();
    this.started = (async () => {
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.start');
      // Allocation sites too: the generator's long pauses are major GCs.
      await this.session.post('HeapProfiler.enable');
      await this.session.post('HeapProfiler.startSampling', {
        samplingInterval: 64 * 1024,
        // Garbage included: what the hold allocates, not only what is still alive at its end.
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    })();
  }

  async stop(file: string, progress: (l: string) => void): Promise<void> {
    try {
      await this.started;
      const { profile } = await this.session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      progress(
        formatProfileSummary(`generator profile (hold) ${file}`, summarizeProfile(profile as CpuProfile), 25),
      );
      const { profile: heap } = await this.session.post('HeapProfiler.stopSampling');
      progress(
        formatAllocationSites(`generator allocations (hold, sampled)`, heap as HeapSamplingProfile, 15),
      );
    } catch (err) {
      progress(`generator profile failed: ${(err as Error).message}`);
    } finally {
      this.session.disconnect();
    }
  }
}

interface HeapSamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapSamplingNode[];
}
interface HeapSamplingProfile {
  head: HeapSamplingNode;
}

/** Sampled bytes allocated per function (self), largest first. */
function formatAllocationSites(title: string, p: HeapSamplingProfile, lines: number): string {
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapSamplingNode) => {
    if (n.selfSize > 0) {
      const { functionName, url, lineNumber } = n.callFrame;
      const key =
        `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
      bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(p.head);
  const top = [...bytes.entries()].sort((a, b) => b[1] - a[1]).slice(0, lines);
  return [
    `${title}: ${(total / 2 ** 20).toFixed(1)} MiB sampled`,
    ...top.map(([k, b]) => `    ${(b / 2 ** 20).toFixed(1).padStart(6)} MiB  ${k}`),
  ].join('\n');
}

interface StepTarget {
  /** Whose process is measured: the transceiver, or the bare werift peer. */
  label: 'transceiver' | 'bare werift';
  edgeUrl: string;
  token?: string;
  pid: number;
  idle: { cpuShare: number; rssMiB: number };
  connectTo?: { ip: string; port: number };
  /** Hold windows are collected here (for the transceiver's whole-life profile). */
  holdWindows?: ProfileWindow[];
}

/**
 * One step: ramp `sessions` up (bounded in rate, concurrency and time, with
 * progress), let them settle, measure a hold with every session sending,
 * stop sending, wait for the last echoes, close everything.
 */
async function runStep(
  t: StepTarget,
  sessions: number,
  rampPerSecond: number,
  holdSeconds: number,
  o: CapacityBenchOptions,
): Promise<CapacityStep> {
  o.progress(`${t.label}: ${sessions} sessions (ramp ${rampPerSecond}/s, hold ${holdSeconds} s)`);
  const hold = new LatencyHistogram();
  let holding = false;
  const pump = new MediaPump({
    // rtp-echo and the bare werift peer reflect each probe's timestamp; PCM agents re-time their audio.
    reflectsTimestamps: (o.agent ?? 'rtp-echo') === 'rtp-echo' || t.label === 'bare werift',
    verifyEvery: VERIFY_EVERY,
    onEcho: (rtt) => {
      if (!holding) return;
      hold.record(rtt);
      if (rtt > RTT_P99_LIMIT_MS) {
        // Which 100 ms of the hold: a few bins mean stalls (GC, preemption), most bins saturation.
        const bin = Math.floor((performance.now() - holdT0) / 100);
        if (bin >= 0 && bin < slowBins.length) slowBins[bin] = Math.max(slowBins[bin] as number, rtt);
      }
    },
  });
  let holdT0 = 0;
  const slowBins = new Float64Array(Math.ceil(holdSeconds * 10) + 1);
  const fleet = new EchoFleet({
    edgeUrl: t.edgeUrl,
    token: t.token,
    agent: o.agent,
    connectTo: t.connectTo,
    setupTimeoutMs: SETUP_TIMEOUT_MS,
    ...(o.srtpProfile && {
      srtpProfiles: [o.srtpProfile === 'gcm' ? DTLS_SRTP_AEAD_AES_128_GCM : DTLS_SRTP_AES128_CM_HMAC_SHA1_80],
    }),
    pump,
  });
  pump.start();
  const rampStarted = performance.now();
  try {
    await withDeadline(
      fleet.ramp({
        sessions,
        perSecond: rampPerSecond,
        concurrency: SETUP_CONCURRENCY,
        onProgress: (p) =>
          o.progress(
            `  ramp ${Math.round((performance.now() - rampStarted) / 1000)} s: ${p.started}/${sessions} started, ${p.up} up, ${p.failed} failed`,
          ),
      }),
      // Bounded: the ramp at its rate, plus one setup timeout for the last ones.
      (sessions / rampPerSecond) * 1000 + SETUP_TIMEOUT_MS + 5_000,
      'ramp',
    );
    const rampSeconds = (performance.now() - rampStarted) / 1000;
    // Let the last handshakes and first packets settle before measuring steady state.
    await sleep(SETTLE_MS);
    const sent0 = fleet.packets();
    const lateSlots0 = pump.lateSlots + pump.skippedSlots;
    const txMeter = new CpuMeter(t.pid).start();
    const core = o.cpus.load[0] !== undefined ? new CoreMeter(o.cpus.load[0]).begin() : undefined;
    const txCore = o.cpus.underTest !== undefined ? new CoreMeter(o.cpus.underTest).begin() : undefined;
    const genCpu0 = process.cpuUsage();
    const genT0 = performance.now();
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    // The generator's own GC pauses: a long one stalls every session's echoes at once.
    const gc = { count: 0, totalMs: 0, maxMs: 0, major: 0, maxMajorMs: 0 };
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        gc.count++;
        gc.totalMs += e.duration;
        gc.maxMs = Math.max(gc.maxMs, e.duration);
        // NODE_PERFORMANCE_GC_MAJOR: a mark-compact over the whole heap (600 werift peers' state).
        if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
          gc.major++;
          gc.maxMajorMs = Math.max(gc.maxMajorMs, e.duration);
        }
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const profiler = o.profileDir ? new GeneratorProfiler() : undefined;
    const holdFromUs = Number(process.hrtime.bigint() / 1000n);
    profiler?.start();
    holdT0 = performance.now();
    holding = true;
    await sleep(holdSeconds * 1000);
    holding = false;
    t.holdWindows?.push({ fromUs: holdFromUs, toUs: Number(process.hrtime.bigint() / 1000n) });
    const g = process.cpuUsage(genCpu0);
    const genMs = performance.now() - genT0;
    loop.disable();
    gcObserver.disconnect();
    const reading = {
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      tx: txMeter.read().coreShare,
      gen: (g.user + g.system) / 1000 / genMs,
      genSys: g.system / 1000 / genMs,
      rss: rssBytesOf(t.pid),
      core: core?.busyShare(),
      txCore: txCore?.busyShare(),
    };
    const lateSlots = pump.lateSlots + pump.skippedSlots - lateSlots0;
    const profileDone = profiler?.stop(
      join(o.profileDir as string, `generator-${t.label.replace(' ', '-')}-${sessions}.cpuprofile`),
      o.progress,
    );
    // Stop sending, then give the last echoes a few RTTs before counting loss.
    fleet.pause();
    await sleep(Math.max(300, 3 * (hold.percentile(99) || 100)));
    await profileDone;
    const packets = fleet.packets();
    const holdPackets = packets.sent - sent0.sent;
    const step: CapacityStep = {
      sessions,
      completed: fleet.up,
      failed: fleet.failed + fleet.dropped,
      failures: { ...fleet.failures, ...(fleet.dropped > 0 && { dropped: fleet.dropped }) },
      rampSeconds: round(rampSeconds, 1),
      slowWindows: slowWindows(slowBins),
      srtpProfiles: { ...fleet.profiles },
      holdRttMs: {
        p50: round(hold.percentile(50)),
        p99: round(hold.percentile(99)),
        max: round(hold.max),
        samples: hold.count,
      },
      lostPackets: packets.lost,
      packetsSent: packets.sent,
      holdPacketsSent: holdPackets,
      echoesVerified: packets.verified,
      echoesRejected: packets.authFailures + packets.mismatched,
      lateSlots,
      transceiverCpuShare: round(reading.tx, 3),
      cpuPercentPerSession: round((100 * (reading.tx - t.idle.cpuShare)) / sessions, 3),
      rssMiB: round(reading.rss / 2 ** 20, 1),
      rssKiBPerSession: round((reading.rss / 2 ** 20 - t.idle.rssMiB) * (1024 / sessions), 1),
      generatorCpuShare: round(reading.gen, 3),
      generatorSystemShare: round(reading.genSys, 3),
      generatorLoopDelayP99Ms: round(reading.loopP99),
      generatorLoopDelayMaxMs: round(reading.loopMax),
      generatorGc: {
        count: gc.count,
        totalMs: round(gc.totalMs, 1),
        maxMs: round(gc.maxMs, 1),
        major: gc.major,
        maxMajorMs: round(gc.maxMajorMs, 1),
      },
      ...(reading.core !== undefined && { loadCoreBusyShare: round(reading.core, 3) }),
      ...(reading.txCore !== undefined && { transceiverCoreBusyShare: round(reading.txCore, 3) }),
      pass: false,
    };
    step.pass =
      hold.count > 0 &&
      step.holdRttMs.p99 <= RTT_P99_LIMIT_MS &&
      step.lostPackets === 0 &&
      step.failed === 0 &&
      step.echoesRejected === 0;
    if (Object.keys(fleet.failureExamples).length > 0)
      o.progress(`  failures: ${JSON.stringify(fleet.failureExamples)}`);
    return step;
  } catch (err) {
    // The ramp ran out of time: what came up and failed is still reported.
    o.progress(`  ${t.label} step at ${sessions} did not complete: ${(err as Error).message}`);
    const packets = fleet.packets();
    return {
      sessions,
      completed: fleet.up,
      failed: Math.max(1, sessions - fleet.up),
      failures: { ...fleet.failures, deadline: sessions - fleet.up - fleet.failed },
      rampSeconds: round((performance.now() - rampStarted) / 1000, 1),
      holdRttMs: { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, samples: 0 },
      lostPackets: packets.lost,
      packetsSent: packets.sent,
      holdPacketsSent: 0,
      echoesVerified: packets.verified,
      echoesRejected: packets.authFailures + packets.mismatched,
      lateSlots: 0,
      transceiverCpuShare: Number.NaN,
      cpuPercentPerSession: Number.NaN,
      rssMiB: Number.NaN,
      rssKiBPerSession: Number.NaN,
      generatorCpuShare: Number.NaN,
      generatorSystemShare: Number.NaN,
      generatorLoopDelayP99Ms: Number.NaN,
      pass: false,
    };
  } finally {
    pump.stop();
    const closing = performance.now();
    await fleet.close();
    o.progress(`  closed ${sessions} sessions in ${Math.round(performance.now() - closing)} ms`);
  }
}

function slowWindows(bins: Float64Array): NonNullable<CapacityStep['slowWindows']> {
  const hit = [...bins]
    .map((rttMs, i) => ({ atS: i / 10, rttMs: round(rttMs, 1) }))
    .filter((b) => b.rttMs > 0);
  return { count: hit.length, of: bins.length, worst: hit.sort((a, b) => b.rttMs - a.rttMs).slice(0, 5) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Rejects when `p` has not settled within `ms` (its work is abandoned, then closed by the caller). */
function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} not done after ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return Number.NaN;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function pct(share: number): string {
  return `${Math.round(share * 100)} %`;
}
