import { chooseTransceiver } from '@parley/shared/discovery/choose-transceiver.js';
import type { TransceiverAnnounce } from '@parley/shared/nats/schemas.js';

/**
 * One core cluster this edge may place sessions in, as configured
 * (`PARLEY_CLUSTERS=name:rttMs,...`). The configured RTT is the fallback
 * used until (or whenever) the mesh measurement is missing.
 */
export interface ClusterConfig {
  name: string;
  fallbackRttMs?: number;
}

export interface PlacementInput {
  /** Eligible clusters; only these receive sessions from this edge. */
  clusters: readonly ClusterConfig[];
  /** RTT from this edge to each cluster measured over NATS, when fresh. */
  measuredRttMs?: ReadonlyMap<string, number>;
  /** Every live transceiver this edge knows of, all clusters. */
  transceivers: readonly TransceiverAnnounce[];
  /** Sessions sent to each transceiver that its announcements may not count yet. */
  pending?: ReadonlyMap<string, number>;
  /** Transceivers that already failed this request. */
  excludeTransceivers?: ReadonlySet<string>;
  /** Clusters that already failed this request at the mesh level (timeout, no responders). */
  excludeClusters?: ReadonlySet<string>;
  /** The cluster the deployment's geo hint names for this request (resolved by `resolveGeoHint`). */
  hintedCluster?: string;
}

export interface ClusterStanding {
  name: string;
  /** Measured when available, else the configured fallback; Infinity when neither is known. */
  rttMs: number;
  rttSource: 'measured' | 'configured' | 'unknown';
  /** Live transceivers that are not draining. */
  healthy: number;
  /** Free sessions over the healthy transceivers, pending ones subtracted. */
  room: number;
  /** Used fraction of the healthy transceivers' capacity (1 when there is none). */
  load: number;
}

export type Placement =
  | { ok: true; cluster: string; transceiver: TransceiverAnnounce; hinted: boolean }
  | { ok: false; reason: 'no_transceivers' | 'no_capacity' };

/** How each eligible cluster stands right now, in the configured order. */
export function clusterStandings(input: PlacementInput): ClusterStanding[] {
  const out: ClusterStanding[] = [];
  for (const c of input.clusters) {
    const measured = input.measuredRttMs?.get(c.name);
    const rttSource =
      measured !== undefined ? 'measured' : c.fallbackRttMs !== undefined ? 'configured' : 'unknown';
    let healthy = 0;
    let capacity = 0;
    let used = 0;
    for (const t of input.transceivers) {
      if (t.cluster !== c.name || t.draining || t.capacity <= 0) continue;
      healthy++;
      capacity += t.capacity;
      used += Math.min(t.capacity, t.sessions + (input.pending?.get(t.id) ?? 0));
    }
    out.push({
      name: c.name,
      rttMs: measured ?? c.fallbackRttMs ?? Number.POSITIVE_INFINITY,
      rttSource,
      healthy,
      room: capacity - used,
      load: capacity > 0 ? used / capacity : 1,
    });
  }
  return out;
}

/**
 * The order this edge tries clusters in: the hinted cluster first when the
 * request carries a hint the deployment maps, then by RTT from this edge
 * (nearest first); equal RTTs go to the less loaded, then by name so the
 * order is deterministic.
 */
export function rankClusters(
  standings: readonly ClusterStanding[],
  hintedCluster?: string,
): ClusterStanding[] {
  return [...standings].sort((a, b) => {
    if (hintedCluster !== undefined && (a.name === hintedCluster) !== (b.name === hintedCluster))
      return a.name === hintedCluster ? -1 : 1;
    if (a.rttMs !== b.rttMs) return a.rttMs < b.rttMs ? -1 : 1;
    if (a.load !== b.load) return a.load - b.load;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/**
 * Picks the cluster for one session attempt, then the transceiver inside it:
 * the nearest cluster that has a healthy transceiver with room (hint first),
 * skipping what already failed this request; inside it the least-loaded
 * transceiver (`chooseTransceiver`). `no_capacity` when some cluster has
 * transceivers but none has room, `no_transceivers` when none has any.
 */
export function placeSession(input: PlacementInput): Placement {
  const ranked = rankClusters(clusterStandings(input), input.hintedCluster);
  let sawTransceivers = false;
  for (const c of ranked) {
    if (input.excludeClusters?.has(c.name)) continue;
    const choice = chooseTransceiver(input.transceivers, {
      cluster: c.name,
      ...(input.pending && { pending: input.pending }),
      ...(input.excludeTransceivers && { exclude: input.excludeTransceivers }),
    });
    if (choice.ok)
      return {
        ok: true,
        cluster: c.name,
        transceiver: choice.transceiver,
        hinted: c.name === input.hintedCluster,
      };
    if (choice.reason === 'no_capacity') sawTransceivers = true;
  }
  return { ok: false, reason: sawTransceivers ? 'no_capacity' : 'no_transceivers' };
}

/**
 * Maps a request's geo hint (e.g. a continent or country code a CDN or DNS
 * layer puts in a header) to a cluster through the deployment's table
 * (`PARLEY_GEO_HINTS=EU:core-eu,NA:core-us`). Unknown or absent hints mean
 * no hint: a client cannot steer placement to a cluster the table does not
 * name for its value.
 */
export function resolveGeoHint(
  hint: string | undefined,
  table: ReadonlyMap<string, string> | undefined,
): string | undefined {
  if (hint === undefined || table === undefined) return undefined;
  return table.get(hint.trim().toUpperCase());
}

/**
 * Parses `name[:rttMs],...` (PARLEY_CLUSTERS). Throws a readable error on
 * anything else, so a typo fails the process at start instead of silently
 * dropping a cluster.
 */
export function parseClusterList(s: string): ClusterConfig[] {
  const out: ClusterConfig[] = [];
  const seen = new Set<string>();
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]{1,64})(?::(\d+(?:\.\d+)?))?$/.exec(part);
    if (!m) throw new Error(`"${part}" is not name or name:rttMs`);
    const name = m[1] as string;
    if (seen.has(name)) throw new Error(`cluster "${name}" is listed twice`);
    seen.add(name);
    out.push(m[2] === undefined ? { name } : { name, fallbackRttMs: Number(m[2]) });
  }
  if (out.length === 0) throw new Error('lists no cluster');
  return out;
}

/** Parses `HINT:cluster,...` (PARLEY_GEO_HINTS); hint values are matched case-insensitively. */
export function parseGeoHints(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_.-]{1,64})$/.exec(part);
    if (!m) throw new Error(`"${part}" is not HINT:cluster`);
    out.set((m[1] as string).toUpperCase(), m[2] as string);
  }
  return out;
}
