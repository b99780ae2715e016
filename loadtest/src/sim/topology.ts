import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The one topology file: Terraform's example reads the same regions (topology/main.tf). */
export const TOPOLOGY_FILE = fileURLToPath(
  new URL('../../../infra/terraform/examples/three-edge-two-core/topology/regions.json', import.meta.url),
);

const Region = z.object({ cidr: z.string(), azs: z.array(z.string()).min(1) });
export const TopologyFile = z.object({
  cores: z.record(
    z.string(),
    Region.extend({
      cluster_name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
      sim: z.object({ transceivers: z.number().int().min(1).max(8), capacity: z.number().int().min(1) }),
    }),
  ),
  edges: z.record(z.string(), Region.extend({ core: z.string(), continent: z.string() })),
  client_geos: z.record(z.string(), z.object({ near: z.string(), access_rtt_ms: z.number().min(0) })),
  rtt_ms: z.record(z.string(), z.record(z.string(), z.number().min(0))),
});
export type TopologyFile = z.infer<typeof TopologyFile>;

export type SiteKind = 'core' | 'edge' | 'geo';

/** One network namespace of the simulation: a core region, an edge region or a client geo. */
export interface Site {
  name: string;
  kind: SiteKind;
  /** 1-based: the site's subnet is 10.99.<index>.0/24, its address 10.99.<index>.2. */
  index: number;
  address: string;
}

export interface Topology {
  file: TopologyFile;
  sites: Site[];
  cores: string[];
  edges: string[];
  geos: string[];
  /** Round-trip time between two sites from the matrix (0 for a site and itself). */
  rttMs(a: string, b: string): number;
  site(name: string): Site;
}

export class TopologyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TopologyError';
  }
}

export function readTopologyFile(path = TOPOLOGY_FILE): TopologyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TopologyError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const parsed = TopologyFile.safeParse(raw);
  if (!parsed.success)
    throw new TopologyError(
      `${path}: ${parsed.error.issues[0]?.message} at ${parsed.error.issues[0]?.path.join('.')}`,
    );
  return parsed.data;
}

export interface Selection {
  cores?: string[];
  edges?: string[];
  geos?: string[];
}

/**
 * The sites of a topology (or of a subset: the integration test runs two
 * edges, two cores and two geos of the same file) and the RTT between any
 * two of them. A geo's RTT to a site is its access RTT plus its nearest
 * region's RTT to that site.
 */
export function buildTopology(file: TopologyFile, sel: Selection = {}): Topology {
  const pick = (all: string[], want: string[] | undefined, what: string): string[] => {
    if (!want) return all;
    for (const w of want)
      if (!all.includes(w)) throw new TopologyError(`unknown ${what} "${w}" (have ${all.join(', ')})`);
    return want;
  };
  const cores = pick(Object.keys(file.cores), sel.cores, 'core region');
  const edges = pick(Object.keys(file.edges), sel.edges, 'edge region');
  const geos = pick(Object.keys(file.client_geos), sel.geos, 'client geo');
  const regionRtt = (a: string, b: string): number => {
    if (a === b) return 0;
    const v = file.rtt_ms[a]?.[b] ?? file.rtt_ms[b]?.[a];
    if (v === undefined) throw new TopologyError(`rtt_ms has no figure for ${a} ↔ ${b}`);
    return v;
  };
  const regionOf = (name: string): { region: string; extra: number } => {
    const g = file.client_geos[name];
    return g ? { region: g.near, extra: g.access_rtt_ms } : { region: name, extra: 0 };
  };
  const rttMs = (a: string, b: string): number => {
    if (a === b) return 0;
    const ra = regionOf(a);
    const rb = regionOf(b);
    return ra.extra + rb.extra + regionRtt(ra.region, rb.region);
  };
  const sites: Site[] = [];
  const add = (name: string, kind: SiteKind) => {
    const index = sites.length + 1;
    sites.push({ name, kind, index, address: `10.99.${index}.2` });
  };
  for (const c of cores) add(c, 'core');
  for (const e of edges) add(e, 'edge');
  for (const g of geos) add(g, 'geo');
  if (sites.length > 250) throw new TopologyError('at most 250 sites');
  // Every pair must have a figure: fail now, not when the first packet crosses.
  for (const a of sites) for (const b of sites) rttMs(a.name, b.name);
  const byName = new Map(sites.map((s) => [s.name, s]));
  return {
    file,
    sites,
    cores,
    edges,
    geos,
    rttMs,
    site: (name) => {
      const s = byName.get(name);
      if (!s) throw new TopologyError(`no site "${name}"`);
      return s;
    },
  };
}

/** Core regions by RTT from `from`, nearest first (ties by name). */
export function coresByDistance(t: Topology, from: string): string[] {
  return [...t.cores].sort((a, b) => t.rttMs(from, a) - t.rttMs(from, b) || (a < b ? -1 : 1));
}

/** The edge a client geo's DNS/anycast sends it to: the nearest edge region. */
export function nearestEdge(t: Topology, geo: string): string {
  const sorted = [...t.edges].sort((a, b) => t.rttMs(geo, a) - t.rttMs(geo, b) || (a < b ? -1 : 1));
  const e = sorted[0];
  if (!e) throw new TopologyError('no edge regions');
  return e;
}

/**
 * The echo RTT the matrix predicts for a call from `geo` through `edge`'s
 * relay to a transceiver in `core`: client ↔ relay ↔ transceiver and back.
 */
export function predictedCallRttMs(t: Topology, geo: string, edge: string, core: string): number {
  return t.rttMs(geo, edge) + t.rttMs(edge, core);
}
