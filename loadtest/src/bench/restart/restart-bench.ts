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
 * - `planned`: a relay with PARLEY_RELAY_REUSE_PORT=handover starts beside the running one
 *   (also in handover mode), receives its flow table and steers the port to itself; the old one
 *   drains and exits by itself (a rolling upgrade).
 */
export type RestartPath = 'restart' | 'sibling' | 'planned';

export interface RestartPathResult {
  path: RestartPath;
  runs: number;
  /** Longest silence between two echoes in each call, ms. */
  gapMs: { p50: number; p95: number; max: number };
  /** From the disruption being over (new process listening, the old one gone, or the port taken over) to the first echo, ms. */
  recoveryMs: { p50: number; p95: number };
  /** Probes lost per call (all of them, and those sent after the first echo on the new path). */
  lostPerCall: { p50: number; max: number };
  lostAfterRecovery: number;
  /** restart only: from the SIGKILL to the new process listening (spawn + its listening phase), ms. */
  startupMs?: { p50: number; p95: number };
  /**
   * restart only, p50 over the runs: the new process's own start-up timeline
   * (its `relay start-up phases` log line, ms since that process started:
   * bootstrap, cli, config, telemetry, modules, listening, nats, flowCache),
   * and `spawn`: from the SIGKILL to the new process being forked.
   */
  startupPhasesMs?: Record<string, number>;
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
const HANDOVER = { PARLEY_RELAY_REUSE_PORT: 'handover' };
const DISRUPT_AFTER_MS = 1_000;

interface Run {
  r: GapCallResult;
  /** restart: SIGKILL to the new relay listening, ms. */
  startupMs?: number;
  /** restart: the new relay's start-up phases (ms since it started) and `spawn` (SIGKILL to fork). */
  phases?: Record<string, number>;
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
  // 20 in the full run: of 10, the p95 is simply the slowest run.
  const runs = o.quick ? 4 : 20;
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
      if (path === 'planned') {
        // Handover mode from here on: the port's relay is replaced by one that can hand over.
        await current.stop();
        current = await stack.startRelay(HANDOVER);
      }
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
          current = await ensureOneRelay(stack, current, path === 'planned' ? HANDOVER : {});
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
  let startupMs: number | undefined;
  let phases: Record<string, number> | undefined;
  const r = await callAcross(
    { edgeUrl: stack.edgeUrl, token: stack.token, total: PROBES, disruptAfterMs: DISRUPT_AFTER_MS },
    async () => {
      if (path === 'restart') {
        const killedAt = performance.now();
        await killAndWait(current.pid);
        const spawn = performance.now() - killedAt;
        let logged: () => void = () => undefined;
        const phasesLogged = new Promise<void>((r) => {
          logged = r;
        });
        next = await stack.startRelay({ PARLEY_LOG_LEVEL: 'info' }, (line) => {
          const ms = startupPhases(line);
          if (ms === undefined) return;
          phases = { spawn, ...ms };
          logged();
        });
        // The relay forwards from `listening` on, and reports ready only once its telemetry (loaded
        // after that) serves metrics: the disruption is over at listening, read from its phases line.
        await bounded(phasesLogged, 5_000, 'the new relay logged no start-up phases within 5 s');
        const listening = (phases as Record<string, number>).listening;
        if (listening === undefined) throw new Error('the new relay logged no listening phase');
        startupMs = spawn + listening;
        return killedAt + startupMs;
      }
      if (path === 'planned') {
        next = await startSuccessor(stack);
        const tookOverAt = performance.now();
        // The old relay drains (quiet for PARLEY_RELAY_HANDOVER_QUIET_MS) and exits by itself.
        await bounded(current.exited, 15_000, 'the old relay did not exit after the handover');
        return tookOverAt;
      }
      // The sibling joins the port's SO_REUSEPORT group first, with its flow cache open.
      next = await startSibling(stack);
      await killAndWait(current.pid);
      return performance.now();
    },
  );
  const successor = next as RunningService;
  const recoveredFromCache = (await recovered(successor)) > 0;
  return {
    run: {
      r,
      recoveredFromCache,
      ...(startupMs !== undefined && { startupMs }),
      ...(phases !== undefined && { phases }),
    },
    next: successor,
  };
}

/** The `ms` of a relay's `relay start-up phases` log line (cli/src/commands/relay.ts), else undefined. */
export function startupPhases(line: string): Record<string, number> | undefined {
  const at = line.indexOf('{');
  if (at < 0 || !line.includes('relay start-up phases')) return undefined;
  try {
    const ms = (JSON.parse(line.slice(at)) as { ms?: unknown }).ms;
    if (typeof ms !== 'object' || ms === null) return undefined;
    return Object.fromEntries(Object.entries(ms).filter(([, v]) => typeof v === 'number')) as Record<
      string,
      number
    >;
  } catch {
    return undefined;
  }
}

/** A relay on the stack's port, ready once it logs `ready` (e.g. that its flow cache is open). */
async function startLogged(
  stack: BenchStack,
  env: Record<string, string>,
  ready: string,
): Promise<RunningService> {
  let resolveSeen: () => void = () => undefined;
  const seen = new Promise<void>((r) => {
    resolveSeen = r;
  });
  const relay = await stack.startRelay({ PARLEY_LOG_LEVEL: 'info', ...env }, (line) => {
    if (line.includes(ready)) resolveSeen();
  });
  await bounded(seen, 10_000, `relay did not log "${ready}" within 10 s`);
  return relay;
}

const startSibling = (stack: BenchStack) => startLogged(stack, {}, 'relay flow cache open');
const startSuccessor = (stack: BenchStack) =>
  startLogged(stack, HANDOVER, 'relay handover: took the port over');

async function bounded<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function ensureOneRelay(
  stack: BenchStack,
  current: RunningService,
  env: Record<string, string>,
): Promise<RunningService> {
  const owners = udpPortOwners(stack.relayPort);
  if (owners.length === 1 && owners[0] === current.pid) return current;
  for (const pid of owners) await killAndWait(pid).catch(() => undefined);
  return stack.startRelay(env);
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
  const startups = done.flatMap((d) => (d.startupMs === undefined ? [] : [d.startupMs]));
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
    ...(path === 'restart' && {
      startupMs: {
        p50: r1(percentile(startups, 50)),
        p95: r1(percentile(startups, 95)),
      },
      startupPhasesMs: phaseMedians(done.flatMap((d) => (d.phases ? [d.phases] : []))),
    }),
    failures,
  };
}

const r1 = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : Number.NaN);

/** Per phase, the p50 over the runs that logged it (in the order the first run logged them). */
function phaseMedians(runs: Record<string, number>[]): Record<string, number> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    names.map((k) => [
      k,
      r1(
        percentile(
          runs.flatMap((r) => (r[k] === undefined ? [] : [r[k]])),
          50,
        ),
      ),
    ]),
  );
}
