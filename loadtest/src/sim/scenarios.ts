import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type CallLine, type GeoReport, summarizeGeo } from './report.js';
import type { SimStack } from './sim-stack.js';
import { coresByDistance, nearestEdge, predictedCallRttMs } from './topology.js';

const CALL_RUNNER = fileURLToPath(new URL('../../dist/sim/call-runner.js', import.meta.url));
const SIGNAL_PROBE = fileURLToPath(new URL('../../dist/sim/signal-probe.js', import.meta.url));

function jsonLines<T>(child: ChildProcess): Promise<T[]> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', () =>
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('{') || l.startsWith('['))
          .map((l) => JSON.parse(l) as T),
      ),
    );
  });
}

/** Calls from every client geo (all geos at once, `calls` each, one at a time), one row per geo. */
export async function runGeoCalls(
  sim: SimStack,
  token: string,
  opts: { calls: number; seconds: number },
): Promise<GeoReport[]> {
  const { topo } = sim;
  return Promise.all(
    topo.geos.map(async (geo) => {
      const edge = nearestEdge(topo, geo);
      const child = sim.spawnIn(geo, [
        process.execPath,
        CALL_RUNNER,
        JSON.stringify({ edgeUrl: sim.edgeUrl(edge), token, calls: opts.calls, seconds: opts.seconds }),
      ]);
      const lines = await jsonLines<CallLine>(child);
      const core = coresByDistance(topo, edge)[0] as string;
      return summarizeGeo(
        geo,
        edge,
        sim.relayAddress(edge),
        predictedCallRttMs(topo, geo, edge, core),
        lines,
        sim.clusterOfSession,
      );
    }),
  );
}

interface ProbeLine {
  t: number;
  ms: number;
  status: number;
  location?: string;
}

export interface KillCoreFigure {
  killed: string;
  edge: string;
  before: string;
  after: string;
  /** From the kill to the first new session placed in another cluster. */
  failoverMs: number;
  /** Session attempts refused between the kill and that first success. */
  refusedMeanwhile: number;
  attemptsAfterKill: number;
  /** Share of sessions after the failover that landed in the next cluster. */
  afterShare: number;
  /**
   * Calls with media flowing in the killed region when it died: how many
   * heard `session.ended` from their edge (the transceiver cannot say it
   * any more), with which reasons, and how long after the kill.
   */
  established: {
    calls: number;
    ended: number;
    reasons: string[];
    endedMs: { min: number; max: number } | null;
  };
}

interface CallRunnerLine {
  n: number;
  connected?: boolean;
  ok?: boolean;
  stage?: string;
  reason?: string;
  endedAt?: number;
}

/** Follows a child's JSON lines as they come. */
function followLines<T>(child: ChildProcess, onLine: (line: T) => void): void {
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) if (l.startsWith('{')) onLine(JSON.parse(l) as T);
  });
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Kills a whole core region (its transceivers and NATS server) while a
 * client geo keeps creating sessions through its edge, whose nearest core
 * that region is, and measures how long until new sessions land in the next
 * cluster. Meanwhile `established` calls (real media, rtp-echo) placed
 * there before the kill watch their edge's event stream, and the drill
 * measures how long until each hears session.ended.
 */
export async function drillKillCore(
  sim: SimStack,
  token: string,
  opts: { geo: string; warmupMs?: number; afterMs?: number; everyMs?: number; established?: number },
): Promise<KillCoreFigure> {
  const { topo } = sim;
  const edge = nearestEdge(topo, opts.geo);
  const [near, next] = coresByDistance(topo, edge) as [string, string];
  const afterMs = opts.afterMs ?? 8_000;
  const warmupMs = opts.warmupMs ?? 15_000;
  const establishedCalls = opts.established ?? 2;
  // Long enough to outlive the drill: each call ends by the edge's notice, or is stopped with the child.
  const calls = sim.spawnIn(opts.geo, [
    process.execPath,
    CALL_RUNNER,
    JSON.stringify({
      edgeUrl: sim.edgeUrl(edge),
      token,
      calls: establishedCalls,
      parallel: establishedCalls,
      seconds: (warmupMs + afterMs) / 1000 + 20,
      watchEvents: true,
    }),
  ]);
  const callLines: CallRunnerLine[] = [];
  followLines<CallRunnerLine>(calls, (l) => callLines.push(l));
  const connected = () => callLines.filter((l) => l.connected).length;
  const endedLines = () => callLines.filter((l) => l.stage === 'ended');
  const child = sim.spawnIn(opts.geo, [
    process.execPath,
    SIGNAL_PROBE,
    JSON.stringify({ edgeUrl: sim.edgeUrl(edge), token, everyMs: opts.everyMs ?? 200, durationMs: 120_000 }),
  ]);
  const all: ProbeLine[] = [];
  let rest = '';
  let seen: () => void = () => {};
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) if (l.startsWith('{')) all.push(JSON.parse(l) as ProbeLine);
    seen();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    // Kill only once sessions demonstrably land in the near cluster (the probe
    // needs a moment to start werift and make its offer).
    const warm = warmupMs + Date.now();
    await until(() => connected() >= establishedCalls, warmupMs);
    while (all.filter((l) => l.status === 201).length < 3 && Date.now() < warm)
      await new Promise<void>((r) => {
        seen = r;
        setTimeout(r, 200);
      });
    const killedAt = Date.now();
    await sim.killCore(near);
    await new Promise((r) => setTimeout(r, afterMs));
    child.kill('SIGTERM');
    await exited;
    // The established calls' notices may still be on their way: a few seconds more at most.
    await until(() => endedLines().length >= connected(), 5_000);
    return { ...figure(killedAt), established: establishedFigure(killedAt) };
  } finally {
    child.kill('SIGKILL');
    calls.kill('SIGKILL');
  }

  function establishedFigure(killedAt: number): KillCoreFigure['established'] {
    const ended = endedLines();
    const ms = ended.filter((l) => l.endedAt !== undefined).map((l) => (l.endedAt as number) - killedAt);
    return {
      calls: connected(),
      ended: ended.length,
      reasons: [...new Set(ended.map((l) => l.reason ?? '?'))],
      endedMs: ms.length ? { min: Math.min(...ms), max: Math.max(...ms) } : null,
    };
  }

  function figure(killedAt: number): Omit<KillCoreFigure, 'established'> {
    const after = all.filter((l) => l.t >= killedAt);
    const cluster = (l: ProbeLine) => (l.location ? sim.clusterOfSession(l.location) : undefined);
    const firstOk = after.find((l) => l.status === 201 && cluster(l) === sim.clusterOfCore(next));
    const okAfter = firstOk ? after.filter((l) => l.t >= firstOk.t && l.status === 201) : [];
    return {
      killed: near,
      edge,
      before: [...new Set(all.filter((l) => l.t < killedAt && l.status === 201).map(cluster))].join('+'),
      after: sim.clusterOfCore(next),
      failoverMs: firstOk ? firstOk.t + firstOk.ms - killedAt : Number.NaN,
      refusedMeanwhile: firstOk
        ? after.filter((l) => l.t < firstOk.t && l.status !== 201).length
        : after.length,
      attemptsAfterKill: after.length,
      afterShare: okAfter.length
        ? okAfter.filter((l) => cluster(l) === sim.clusterOfCore(next)).length /
          after.filter((l) => firstOk && l.t >= firstOk.t).length
        : 0,
    };
  }
}

async function probeOnce(
  sim: SimStack,
  geo: string,
  args: {
    edgeUrl: string;
    token: string;
    everyMs: number;
    durationMs: number;
    count?: number;
    hold?: boolean;
    burst?: boolean;
  },
): Promise<ProbeLine[]> {
  return jsonLines<ProbeLine>(sim.spawnIn(geo, [process.execPath, SIGNAL_PROBE, JSON.stringify(args)]));
}

export interface OverflowFigure {
  edge: string;
  near: string;
  next: string;
  /** Sessions the near cluster can hold (transceivers × capacity). */
  nearCapacity: number;
  attempts: number;
  inNear: number;
  inNext: number;
  refused: number;
}

/**
 * Fills the nearest cluster of a geo's edge with sessions that are held
 * (never deleted until the end) and counts where the ones beyond its
 * capacity land: the next cluster, with no 503 while it has room.
 */
export async function drillOverflow(
  sim: SimStack,
  token: string,
  opts: { geo: string; extra?: number },
): Promise<OverflowFigure> {
  const { topo } = sim;
  const edge = nearestEdge(topo, opts.geo);
  const [near, next] = coresByDistance(topo, edge) as [string, string];
  const spec = topo.file.cores[near]?.sim as { transceivers: number; capacity: number };
  const nearCapacity = spec.transceivers * spec.capacity;
  const attempts = nearCapacity + (opts.extra ?? 4);
  const lines = await probeOnce(sim, opts.geo, {
    edgeUrl: sim.edgeUrl(edge),
    token,
    everyMs: 50,
    durationMs: 60_000,
    count: attempts,
    hold: true,
    burst: true,
  });
  const cluster = (l: ProbeLine) => (l.location ? sim.clusterOfSession(l.location) : undefined);
  return {
    edge,
    near: sim.clusterOfCore(near),
    next: sim.clusterOfCore(next),
    nearCapacity,
    attempts: lines.length,
    inNear: lines.filter((l) => cluster(l) === sim.clusterOfCore(near)).length,
    inNext: lines.filter((l) => cluster(l) === sim.clusterOfCore(next)).length,
    refused: lines.filter((l) => l.status !== 201).length,
  };
}

export interface RelayRestartFigure {
  edge: string;
  callOk: boolean;
  /** Longest silence between two echoes: the relay's absence, seen by the caller. */
  maxGapMs: number;
  lost: number;
  relayDownMs: number;
  error?: string;
}

/** Kills an edge region's relay in the middle of a call and starts it again. */
export async function drillRelayRestart(
  sim: SimStack,
  token: string,
  opts: { geo: string },
): Promise<RelayRestartFigure> {
  const edge = nearestEdge(sim.topo, opts.geo);
  const child = sim.spawnIn(opts.geo, [
    process.execPath,
    CALL_RUNNER,
    JSON.stringify({ edgeUrl: sim.edgeUrl(edge), token, calls: 1, seconds: 10 }),
  ]);
  const lines = jsonLines<CallLine & { maxGapMs?: number; packets?: { lost: number } }>(child);
  // Setup takes a few hundred ms to a second or two; the call then runs 10 s.
  await new Promise((r) => setTimeout(r, 4_000));
  const down = Date.now();
  await sim.killRelay(edge);
  await sim.startRelay(edge);
  const relayDownMs = Date.now() - down;
  const [r] = await lines;
  return {
    edge,
    callOk: r?.ok ?? false,
    maxGapMs: r?.maxGapMs ?? Number.NaN,
    lost: r?.packets?.lost ?? Number.NaN,
    relayDownMs,
    ...(r?.error !== undefined && { error: r.error }),
  };
}

export interface GatewayCutFigure {
  between: [string, string];
  /** From the cut until the gateway is reported down (NATS pings: 2 s × 2). */
  detectedDownMs: number;
  /** Sessions placed from an edge attached to the first core while the link was cut, and where they landed. */
  duringCut: { attempts: number; ok: number; clusters: string };
  /** From the restore until the gateway is reported up again. */
  reconnectMs: number;
}

function outboundGateways(gatewayz: unknown): string[] {
  const g = gatewayz as { outbound_gateways?: Record<string, { connection?: unknown }> };
  return Object.entries(g.outbound_gateways ?? {})
    .filter(([, v]) => v.connection)
    .map(([k]) => k);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 200));
  }
  return Number.NaN;
}

/**
 * Cuts the WAN link between two core regions (the delay element drops every
 * packet between them), places sessions from a geo whose edge uses the
 * first core, then restores the link and times the gateway's return.
 */
export async function drillGatewayCut(
  sim: SimStack,
  token: string,
  opts: { geo: string },
): Promise<GatewayCutFigure> {
  const { topo } = sim;
  const edge = nearestEdge(topo, opts.geo);
  const [a, b] = coresByDistance(topo, edge) as [string, string];
  const peer = sim.clusterOfCore(b);
  const up = async () => outboundGateways(await sim.natsMonitor(a, 'gatewayz')).includes(peer);
  await sim.cut(a, b);
  const detectedDownMs = await waitFor(async () => !(await up()), 20_000);
  const lines = await probeOnce(sim, opts.geo, {
    edgeUrl: sim.edgeUrl(edge),
    token,
    everyMs: 200,
    durationMs: 3_000,
  });
  const cluster = (l: ProbeLine) => (l.location ? sim.clusterOfSession(l.location) : undefined);
  await sim.restore(a, b);
  const reconnectMs = await waitFor(up, 30_000);
  return {
    between: [a, b],
    detectedDownMs,
    duringCut: {
      attempts: lines.length,
      ok: lines.filter((l) => l.status === 201).length,
      clusters: [...new Set(lines.map(cluster).filter(Boolean))].join('+'),
    },
    reconnectMs,
  };
}

const MESH_PROBE = fileURLToPath(new URL('../../dist/sim/mesh-probe.js', import.meta.url));

export interface MeshFigure {
  edge: string;
  cluster: string;
  /** NATS request round trip from the edge's leaf node to a transceiver of the cluster. */
  requestRttMs?: { p50: number; max: number; n: number };
  /** Age of announcements on arrival at the edge: propagation through gateways and the leaf. */
  announceAgeMs?: { p50: number; max: number; n: number };
  /** The matrix's RTT between the edge region and the cluster's region. */
  predictedRttMs: number;
}

/** Announcement propagation and request latency across gateways, from every edge region. */
export async function measureMesh(sim: SimStack, opts: { seconds?: number } = {}): Promise<MeshFigure[]> {
  const { topo } = sim;
  const rows = await Promise.all(
    topo.edges.map(async (edge) => {
      const child = sim.spawnIn(
        edge,
        [
          process.execPath,
          MESH_PROBE,
          JSON.stringify({ natsUrl: `nats://${topo.site(edge).address}:4222`, seconds: opts.seconds ?? 4 }),
        ],
        { PARLEY_LOG_LEVEL: 'silent' },
      );
      const [lines] = await jsonLines<Omit<MeshFigure, 'edge' | 'predictedRttMs'>[]>(child);
      return (lines ?? []).map((l) => {
        const core = topo.cores.find((c) => sim.clusterOfCore(c) === l.cluster);
        return { edge, ...l, predictedRttMs: core ? topo.rttMs(edge, core) : Number.NaN };
      });
    }),
  );
  return rows.flat();
}
