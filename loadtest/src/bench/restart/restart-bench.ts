import {
  callAcross,
  type GapCallResult,
  killAndWait,
  measureGap,
  udpPortOwners,
} from '../../call/relay-gap.js';
import { percentile } from '../../call/stats.js';
import type { CpuPlan } from '../proc/cpu-pin.js';
import type { RunningService } from '../proc/service-launcher.js';
import { type BenchStack, startBenchStack } from '../stack/bench-stack.js';

export interface RestartBenchOptions {
  quick: boolean;
  cpus: CpuPlan;
  progress: (line: string) => void;
}

/**
 * - `restart`: the relay is SIGKILLed and a new process starts on its port (a crash and restart);
 * - `sibling`: a second relay already shares the port (SO_REUSEPORT), then the first is SIGKILLed
 *   (a load balancer moving the client to another relay);
 * - `planned`: the successor joins the port, then the old one gets SIGTERM (a rolling upgrade).
 */
export type RestartPath = 'restart' | 'sibling' | 'planned';

export interface RestartPathResult {
  path: RestartPath;
  runs: number;
  /** Longest silence between two echoes in each call, ms. */
  gapMs: { p50: number; p95: number; max: number };
  /** From the disruption being over (new process listening, or the old one gone) to the first echo, ms. */
  recoveryMs: { p50: number; p95: number };
  /** Probes lost per call (all of them, and those sent after the first echo on the new path). */
  lostPerCall: { p50: number; max: number };
  lostAfterRecovery: number;
  /** Runs whose new relay found the flow in the flow cache (the rest: a consent check got there first). */
  recoveredFromCache: number;
  /** Calls that failed outright (no session afterwards, or no echo on the new path). */
  failures: string[];
}

export interface RestartBenchResult {
  /** Probes per call (20 ms apart) and when the relay is disrupted, ms after the first. */
  probesPerCall: number;
  disruptAfterMs: number;
  paths: RestartPathResult[];
}

const PROBES = 150;
const DISRUPT_AFTER_MS = 1_000;

interface Run {
  r: GapCallResult;
  recoveredFromCache: boolean;
}

/**
 * Relay restart media gap, repeated: one werift call per run through the full
 * stack (nats-server with JetStream, transceiver, relay with
 * PARLEY_RELAY_REUSE_PORT=1, edge), its relay disrupted mid-call; the gap is
 * read from the echo arrival times (loadtest/src/call/relay-gap.ts, as in
 * cli/test/relay-restart.test.ts).
 */
export async function benchRestart(o: RestartBenchOptions): Promise<RestartBenchResult> {
  const runs = o.quick ? 4 : 12;
  const stack = await startBenchStack({
    capacity: 20,
    transceiverCpu: o.cpus.underTest,
    otherCpu: o.cpus.load[0],
    relayEnv: { PARLEY_RELAY_REUSE_PORT: '1' },
  });
  try {
    // The relay that owns the port now; each run replaces it.
    let current: RunningService = stack.relay;
    const paths: RestartPathResult[] = [];
    for (const path of ['restart', 'sibling', 'planned'] as const) {
      o.progress(`restart: ${runs} calls, relay ${path} after ${DISRUPT_AFTER_MS} ms of each`);
      const done: Run[] = [];
      const failures: string[] = [];
      for (let i = 0; i < runs; i++) {
        try {
          const { run, next } = await disruptOnce(stack, current, path);
          current = next;
          done.push(run);
        } catch (err) {
          failures.push((err as Error).message.slice(0, 120));
          // Whatever happened, the next run needs exactly one live relay on the port.
          current = await ensureOneRelay(stack, current);
        }
      }
      paths.push(summarize(path, runs, done, failures));
      const p = paths.at(-1) as RestartPathResult;
      o.progress(
        `  ${path}: gap p50 ${p.gapMs.p50} ms, p95 ${p.gapMs.p95} ms, max ${p.gapMs.max} ms; ` +
          `lost per call p50 ${p.lostPerCall.p50}; from cache ${p.recoveredFromCache}/${done.length}; failures ${failures.length}`,
      );
    }
    return { probesPerCall: PROBES, disruptAfterMs: DISRUPT_AFTER_MS, paths };
  } finally {
    await stack.stop();
  }
}

async function disruptOnce(
  stack: BenchStack,
  current: RunningService,
  path: RestartPath,
): Promise<{ run: Run; next: RunningService }> {
  let next: RunningService | undefined;
  const r = await callAcross(
    { edgeUrl: stack.edgeUrl, token: stack.token, total: PROBES, disruptAfterMs: DISRUPT_AFTER_MS },
    async () => {
      if (path === 'restart') {
        await killAndWait(current.pid);
        next = await stack.startRelay();
        return performance.now();
      }
      // The successor joins the port's SO_REUSEPORT group first, with its flow cache open.
      next = await startSibling(stack);
      if (path === 'sibling') await killAndWait(current.pid);
      else await current.stop();
      return performance.now();
    },
  );
  const successor = next as RunningService;
  return { run: { r, recoveredFromCache: (await recovered(successor)) > 0 }, next: successor };
}

/** A relay on the stack's port, ready once it logs that its flow cache is open. */
async function startSibling(stack: BenchStack): Promise<RunningService> {
  let resolveOpen: () => void = () => undefined;
  const open = new Promise<void>((r) => {
    resolveOpen = r;
  });
  const relay = await stack.startRelay({ PARLEY_LOG_LEVEL: 'info' }, (line) => {
    if (line.includes('relay flow cache open')) resolveOpen();
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    open,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error('sibling relay: flow cache not open after 10 s')), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  return relay;
}

async function ensureOneRelay(stack: BenchStack, current: RunningService): Promise<RunningService> {
  const owners = udpPortOwners(stack.relayPort);
  if (owners.length === 1) return owners[0] === current.pid ? current : stack.startRelay();
  for (const pid of owners) if (pid !== current.pid) await killAndWait(pid).catch(() => undefined);
  if (owners.includes(current.pid)) return current;
  return stack.startRelay();
}

/** parley_relay_flow_cache_total{event="recovered"} of a relay process. */
async function recovered(relay: RunningService): Promise<number> {
  const url = relay.info.metrics;
  if (typeof url !== 'string') return 0;
  const text = await (await fetch(url)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('parley_relay_flow_cache_total{') && l.includes('event="recovered"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

function summarize(path: RestartPath, runs: number, done: Run[], failures: string[]): RestartPathResult {
  const m = done.map((d) => measureGap(d.r, d.r.resumedAt));
  const gaps = m.map((x) => x.gap);
  const recoveries = m.map((x) => x.recovery).filter(Number.isFinite);
  const lost = m.map((x) => x.lost);
  for (const [i, x] of m.entries())
    if (!Number.isFinite(x.recovery)) failures.push(`run ${i}: no echo after the disruption`);
  return {
    path,
    runs,
    gapMs: { p50: r1(percentile(gaps, 50)), p95: r1(percentile(gaps, 95)), max: r1(Math.max(...gaps)) },
    recoveryMs: { p50: r1(percentile(recoveries, 50)), p95: r1(percentile(recoveries, 95)) },
    lostPerCall: { p50: percentile(lost, 50), max: Math.max(...lost) },
    lostAfterRecovery: m.reduce((a, x) => a + x.lostAfter, 0),
    recoveredFromCache: done.filter((d) => d.recoveredFromCache).length,
    failures,
  };
}

const r1 = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : Number.NaN);
