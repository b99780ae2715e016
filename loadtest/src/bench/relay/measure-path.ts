import { CoreMeter } from '../proc/core-usage.js';
import { CpuMeter } from '../proc/proc-stats.js';
import { udpDrops } from '../proc/udp-drops.js';
import type { Worker } from '../proc/worker-rpc.js';
import type { HopSummary, RunningCapture } from './hop-capture.js';
import type { RunResult } from './udp-generator.js';
import type { SinkReading } from './udp-sink.js';

export interface PathPlan {
  /** Rates for the latency measurement. */
  fixedRates: number[];
  /** Time at each fixed rate, per path. */
  fixedMs: number;
  /**
   * The paths take turns at each fixed rate in this many slices of
   * fixedMs / fixedSlices (default 1), each path's slices pooled into one
   * histogram: a burst of unrelated load on a shared machine then lands on
   * every path alike instead of on whichever path's one window it hit.
   */
  fixedSlices?: number;
  /** Throughput search: start, multiply by `growth` until a step fails, then bisect `refine` times. */
  startRate: number;
  growth: number;
  maxRate: number;
  stepMs: number;
  refine: number;
}

export interface StepResult {
  ratePps: number;
  sent: number;
  achievedPps: number;
  received: number;
  lossPercent: number;
  forwardedPps: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The process under test (relay or coturn): CPU as a share of one core, and per forwarded packet. */
  targetCpuShare?: number;
  cpuUsPerPacket?: number;
  /** The pinned core's busy share, including softirq time and anything else that ran there. */
  coreBusyShare?: number;
  generatorCpuShare: number;
  sinkCpuShare: number;
  /** Receive-buffer drops during the step at the process under test and at the sink. */
  targetDrops?: number;
  sinkDrops?: number;
  /** Fixed rates, paths through a relay: the relay hop itself from a loopback capture (hop-capture.ts). */
  hopMs?: HopSummary;
  /** ok: < 1 % loss at the asked rate; loss: ≥ 1 %; generator: the generator could not send at the rate. */
  verdict: 'ok' | 'loss' | 'generator';
}

export interface PathMeasurement {
  /** parley: the relay on its native (recvmmsg/sendmmsg) UDP I/O; parley-dgram: on node:dgram. */
  path: 'direct' | 'parley' | 'parley-dgram' | 'coturn';
  pinned: boolean;
  fixed: StepResult[];
  steps: StepResult[];
  /** Highest rate forwarded with < 1 % loss in each round. */
  roundMaxPps: number[];
  /** Median of roundMaxPps. */
  maxForwardedPps: number;
  /** CPU of the process under test per forwarded packet (median over the busier good steps). */
  cpuUsPerPacket?: number;
  /** What stopped the search: the process under test, the load harness (generator or sink), or the rate cap. */
  limitedBy: 'target' | 'generator' | 'sink' | 'rate cap';
}

export interface PathContext {
  gen: Worker;
  sink: Worker;
  sinkPort: number;
  target?: { pid: number; port: number; pinned: boolean };
  /** The core the process under test is pinned to. */
  coreCpu?: number;
}

const DRAIN_MS = 150;

/** What one or more slices of a step add up to, before the sink is read. */
interface StepSums {
  sent: number;
  /** Sum over slices of max(the generator's sending time, the slice). */
  runMs: number;
  /** The generator's own sending time and CPU over it. */
  generatorMs: number;
  generatorCpuMs: number;
  drains: number;
  targetCpuSeconds?: number;
  /** Busy share × run time, over the slices with a reading. */
  coreBusyMs?: number;
  coreMs: number;
  sinkDrops?: number;
  targetDrops?: number;
}

function emptySums(ctx: PathContext): StepSums {
  return {
    sent: 0,
    runMs: 0,
    generatorMs: 0,
    generatorCpuMs: 0,
    drains: 0,
    coreMs: 0,
    sinkDrops: 0,
    ...(ctx.target && { targetCpuSeconds: 0, targetDrops: 0 }),
  };
}

const addDefined = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : a + b;
const diff = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : b - a;

/** Sends at `ratePps` for `durationMs` and drains, adding to `sums`; the sink keeps counting into its selected tally. */
async function runSlice(
  ctx: PathContext,
  ratePps: number,
  durationMs: number,
  sums: StepSums,
): Promise<void> {
  const sinkDrops0 = udpDrops(ctx.sinkPort);
  const targetDrops0 = ctx.target ? udpDrops(ctx.target.port) : undefined;
  const meter = ctx.target ? new CpuMeter(ctx.target.pid).start() : undefined;
  const core = ctx.coreCpu !== undefined ? new CoreMeter(ctx.coreCpu).begin() : undefined;
  const run = await ctx.gen.call<RunResult>('run', { rate: ratePps, durationMs }, durationMs * 3 + 10_000);
  // The core's share over the sending window itself; the drain below would dilute it.
  const coreBusy = core?.busyShare();
  await new Promise((r) => setTimeout(r, DRAIN_MS));
  const cpu = meter?.read();
  const runMs = Math.max(run.elapsedMs, durationMs);
  sums.sent += run.sent;
  sums.runMs += runMs;
  sums.generatorMs += run.elapsedMs;
  sums.generatorCpuMs += run.cpuShare * run.elapsedMs;
  sums.drains++;
  if (cpu && sums.targetCpuSeconds !== undefined) sums.targetCpuSeconds += cpu.cpuSeconds;
  if (coreBusy !== undefined) {
    sums.coreBusyMs = (sums.coreBusyMs ?? 0) + coreBusy * runMs;
    sums.coreMs += runMs;
  }
  const sinkDrops1 = udpDrops(ctx.sinkPort);
  const targetDrops1 = ctx.target ? udpDrops(ctx.target.port) : undefined;
  // Unknown once any slice could not read the counters.
  sums.sinkDrops = addDefined(sums.sinkDrops, diff(sinkDrops0, sinkDrops1));
  sums.targetDrops = addDefined(sums.targetDrops, diff(targetDrops0, targetDrops1));
}

function finishStep(ratePps: number, sums: StepSums, got: SinkReading): StepResult {
  const runSeconds = sums.runMs / 1000;
  const achievedRate = (sums.sent * 1000) / Math.max(1, sums.runMs);
  const lossPercent = sums.sent === 0 ? 0 : (100 * Math.max(0, sums.sent - got.received)) / sums.sent;
  const drainMs = sums.drains * DRAIN_MS;
  const step: StepResult = {
    ratePps,
    sent: sums.sent,
    achievedPps: Math.round(achievedRate),
    received: got.received,
    lossPercent: round(lossPercent, 3),
    forwardedPps: Math.round(got.received / runSeconds),
    latencyMs: {
      p50: round(got.latencyMs.p50),
      p99: round(got.latencyMs.p99),
      max: round(got.latencyMs.max),
    },
    generatorCpuShare: round(sums.generatorCpuMs / Math.max(1, sums.generatorMs), 2),
    sinkCpuShare: round(got.cpuShare * ((sums.runMs + drainMs) / sums.runMs), 2),
    verdict: achievedRate < 0.95 * ratePps ? 'generator' : lossPercent >= 1 ? 'loss' : 'ok',
  };
  if (sums.targetCpuSeconds !== undefined) {
    step.targetCpuShare = round(sums.targetCpuSeconds / runSeconds, 2);
    if (got.received > 0) step.cpuUsPerPacket = round((sums.targetCpuSeconds * 1e6) / got.received, 2);
  }
  if (sums.coreBusyMs !== undefined && sums.coreMs > 0)
    step.coreBusyShare = round(sums.coreBusyMs / sums.coreMs, 2);
  if (sums.sinkDrops !== undefined) step.sinkDrops = sums.sinkDrops;
  if (sums.targetDrops !== undefined) step.targetDrops = sums.targetDrops;
  return step;
}

export async function measureStep(
  ctx: PathContext,
  ratePps: number,
  durationMs: number,
): Promise<StepResult> {
  await ctx.sink.call('select', { label: '' });
  await ctx.sink.call('reset');
  const sums = emptySums(ctx);
  await runSlice(ctx, ratePps, durationMs, sums);
  return finishStep(ratePps, sums, await ctx.sink.call<SinkReading>('read'));
}

export type PathName = PathMeasurement['path'];

function describeStep(path: PathName, s: StepResult): string {
  return (
    `  ${path} ${fmtRate(s.ratePps)}: forwarded ${fmtRate(s.forwardedPps)}, loss ${s.lossPercent.toFixed(2)} %, ` +
    `one-way p50 ${s.latencyMs.p50} ms p99 ${s.latencyMs.p99} ms` +
    (s.targetCpuShare !== undefined ? `, ${path} cpu ${pct(s.targetCpuShare)}` : '') +
    (s.coreBusyShare !== undefined ? ` (core ${pct(s.coreBusyShare)} busy)` : '') +
    (s.hopMs ? `, relay hop p50 ${s.hopMs.p50} ms p99 ${s.hopMs.p99} ms` : '') +
    `, generator ${pct(s.generatorCpuShare)}, sink ${pct(s.sinkCpuShare)} → ${s.verdict}`
  );
}

/**
 * Warms a path up (flow setup through the relay) and checks it carries
 * anything at all, then runs it for a second at the first latency rate, so
 * a JIT-compiled process under test (the relay) has tiered up its
 * forwarding loop before latency is measured, as a long-running relay has:
 * V8 compiling on the same pinned core otherwise shows in the first step's
 * tail. Every path gets the same warm-up.
 */
export async function warmUp(path: PathName, ctx: PathContext, rate = 10_000): Promise<void> {
  const warm = await measureStep(ctx, 2_000, 400);
  if (warm.received < warm.sent * 0.5)
    throw new Error(
      `${path}: only ${warm.received} of ${warm.sent} warm-up packets arrived; the path does not work`,
    );
  await measureStep(ctx, rate, 1_000);
}

/**
 * Latency at fixed rates. At each rate the paths take turns in
 * plan.fixedSlices slices (the first path moving round by one each slice),
 * and each path's slices are pooled into one histogram at the sink: every
 * path then meets the same share of whatever else the machine was doing.
 */
export async function measureFixed(
  paths: { path: PathName; ctx: PathContext }[],
  plan: PathPlan,
  progress: (line: string) => void,
  /** Started before a rate's slices and stopped after them (the relay hop on the wire), when given. */
  capture?: (ratePps: number) => Promise<RunningCapture | undefined>,
): Promise<Map<PathName, StepResult[]>> {
  const out = new Map<PathName, StepResult[]>(paths.map((p) => [p.path, []]));
  const slices = Math.max(1, Math.round(plan.fixedSlices ?? 1));
  const sliceMs = plan.fixedMs / slices;
  for (const rate of plan.fixedRates) {
    const sums = new Map<PathName, StepSums>();
    for (const { path, ctx } of paths) {
      await ctx.sink.call('select', { label: path });
      await ctx.sink.call('reset');
      sums.set(path, emptySums(ctx));
    }
    let hops: Map<string, HopSummary> | undefined;
    const running = await capture?.(rate);
    try {
      for (let i = 0; i < slices; i++) {
        for (let k = 0; k < paths.length; k++) {
          const { path, ctx } = paths[(i + k) % paths.length] as (typeof paths)[number];
          await ctx.sink.call('select', { label: path });
          await runSlice(ctx, rate, sliceMs, sums.get(path) as StepSums);
        }
      }
    } finally {
      hops = await running?.stop();
    }
    for (const { path, ctx } of paths) {
      await ctx.sink.call('select', { label: path });
      const s = finishStep(rate, sums.get(path) as StepSums, await ctx.sink.call<SinkReading>('read'));
      const hop = hops?.get(path);
      if (hop) s.hopMs = { pairs: hop.pairs, p50: round(hop.p50), p99: round(hop.p99), max: round(hop.max) };
      progress(describeStep(path, s));
      out.get(path)?.push(s);
    }
  }
  return out;
}

/**
 * The highest rate each path forwards with < 1 % loss. Rates grow
 * geometrically and the paths take turns at each rate (a path drops out at
 * its first failed step), then each bisects between its last good and first
 * bad rate. Repeated `rounds` times; the median of the rounds is reported,
 * because a shared machine's other work moves single runs a lot.
 */
export async function searchMax(
  paths: { path: PathName; ctx: PathContext }[],
  plan: PathPlan,
  rounds: number,
  progress: (line: string) => void,
): Promise<Map<PathName, { steps: StepResult[]; roundMax: number[]; best?: StepResult; fail?: StepResult }>> {
  const out = new Map(
    paths.map((p) => [
      p.path,
      {
        steps: [] as StepResult[],
        roundMax: [] as number[],
        best: undefined as StepResult | undefined,
        fail: undefined as StepResult | undefined,
      },
    ]),
  );
  for (let round = 0; round < rounds; round++) {
    const state = new Map(
      paths.map((p) => [
        p.path,
        { pass: undefined as StepResult | undefined, fail: undefined as StepResult | undefined },
      ]),
    );
    const step = async (path: PathName, ctx: PathContext, rate: number) => {
      const s = await measureStep(ctx, Math.round(rate), plan.stepMs);
      progress(describeStep(path, s));
      const o = out.get(path);
      const st = state.get(path);
      if (!o || !st) return;
      o.steps.push(s);
      if (s.verdict === 'ok') {
        if (!st.pass || s.ratePps > st.pass.ratePps) st.pass = s;
      } else if (!st.fail || s.ratePps < st.fail.ratePps) st.fail = s;
    };
    for (let rate = plan.startRate; rate <= plan.maxRate; rate *= plan.growth) {
      const live = paths.filter((p) => state.get(p.path)?.fail === undefined);
      if (live.length === 0) break;
      for (const { path, ctx } of live) await step(path, ctx, rate);
    }
    for (let i = 0; i < plan.refine; i++) {
      for (const { path, ctx } of paths) {
        const st = state.get(path);
        if (st?.pass && st.fail) await step(path, ctx, (st.pass.ratePps + st.fail.ratePps) / 2);
      }
    }
    for (const { path } of paths) {
      const st = state.get(path);
      const o = out.get(path);
      if (!st || !o) continue;
      o.roundMax.push(st.pass?.forwardedPps ?? 0);
      if (st.pass && (!o.best || st.pass.forwardedPps > o.best.forwardedPps)) o.best = st.pass;
      if (st.fail) o.fail = st.fail;
    }
  }
  return out;
}

/** Puts a path's fixed-rate and search results together. */
export function pathResult(
  path: PathName,
  pinned: boolean,
  fixed: StepResult[],
  search: { steps: StepResult[]; roundMax: number[]; best?: StepResult; fail?: StepResult },
  hasTarget: boolean,
): PathMeasurement {
  const okSteps = search.steps.filter((s) => s.verdict === 'ok' && s.cpuUsPerPacket !== undefined);
  // CPU per packet from the busier half of the good steps: at low rates fixed costs (timers, GC) dominate.
  const busy = okSteps.filter((s) => s.ratePps >= (search.best?.ratePps ?? 0) / 2);
  return {
    path,
    pinned,
    fixed,
    steps: search.steps,
    roundMaxPps: search.roundMax,
    maxForwardedPps: median(search.roundMax),
    ...(busy.length > 0 && { cpuUsPerPacket: round(median(busy.map((s) => s.cpuUsPerPacket as number)), 2) }),
    limitedBy: limitOf(search.fail, hasTarget),
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Where a failed step's trouble was: the generator fell behind, or whose socket dropped the packets. */
export function limitOf(fail: StepResult | undefined, hasTarget: boolean): PathMeasurement['limitedBy'] {
  if (!fail) return 'rate cap';
  if (fail.verdict === 'generator') return 'generator';
  const atTarget = fail.targetDrops ?? 0;
  const atSink = fail.sinkDrops ?? 0;
  if (hasTarget && atTarget >= atSink) return 'target';
  if (atSink > 0) return 'sink';
  // No socket dropped anything: the loss happened inside a process; a saturated one is the suspect.
  if (hasTarget && (fail.targetCpuShare ?? 0) >= 0.9) return 'target';
  return fail.sinkCpuShare >= fail.generatorCpuShare ? 'sink' : 'generator';
}

function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function fmtRate(pps: number): string {
  return pps >= 1000 ? `${(pps / 1000).toFixed(1)}k pps` : `${pps} pps`;
}

function pct(share: number): string {
  return `${Math.round(share * 100)} %`;
}
