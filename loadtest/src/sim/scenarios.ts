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
          .filter((l) => l.startsWith('{'))
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
}

/**
 * Kills a whole core region (its transceivers and NATS server) while a
 * client geo keeps creating sessions through its edge, whose nearest core
 * that region is, and measures how long until new sessions land in the next
 * cluster.
 */
export async function drillKillCore(
  sim: SimStack,
  token: string,
  opts: { geo: string; warmupMs?: number; afterMs?: number; everyMs?: number },
): Promise<KillCoreFigure> {
  const { topo } = sim;
  const edge = nearestEdge(topo, opts.geo);
  const [near, next] = coresByDistance(topo, edge) as [string, string];
  const warmupMs = opts.warmupMs ?? 2_000;
  const afterMs = opts.afterMs ?? 8_000;
  const child = sim.spawnIn(opts.geo, [
    process.execPath,
    SIGNAL_PROBE,
    JSON.stringify({
      edgeUrl: sim.edgeUrl(edge),
      token,
      everyMs: opts.everyMs ?? 200,
      durationMs: warmupMs + afterMs,
    }),
  ]);
  const lines = jsonLines<ProbeLine>(child);
  await new Promise((r) => setTimeout(r, warmupMs));
  const killedAt = Date.now();
  await sim.killCore(near);
  const all = await lines;
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
