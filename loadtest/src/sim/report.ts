import { percentile, round } from '../call/stats.js';

/** One call as the call runner reports it. */
export interface CallLine {
  ok: boolean;
  setupMs?: { firstAudio: number };
  rttMs?: { p50: number; p99: number };
  remoteCandidate?: string;
  sessionUrl?: string;
  error?: string;
  /** Every echo's RTT, when the runner sends them (for pooled percentiles). */
  rtts?: number[];
}

export interface GeoReport {
  geo: string;
  edge: string;
  relay: string;
  expectedRelay: string;
  cluster: string;
  calls: number;
  failed: number;
  setupMs: { p50: number; p95: number };
  rttMs: { p50: number; p99: number };
  predictedRttMs: number;
}

/**
 * One geo's row from its calls: the relay and cluster most calls used (a
 * mixed result shows as "a+b"), setup (to first echoed audio) p50/p95 over
 * calls, echo RTT p50/p99 over every echo of every call when available, else
 * over the per-call medians and 99th percentiles.
 */
export function summarizeGeo(
  geo: string,
  edge: string,
  expectedRelay: string,
  predictedRttMs: number,
  lines: readonly CallLine[],
  clusterOf: (sessionUrl: string) => string | undefined,
): GeoReport {
  const ok = lines.filter((l) => l.ok);
  const distinct = (xs: (string | undefined)[]) =>
    [...new Set(xs.filter((x): x is string => !!x))].sort().join('+');
  const setups = ok.map((l) => l.setupMs?.firstAudio ?? Number.NaN).filter(Number.isFinite);
  const echoes = ok.flatMap((l) => l.rtts ?? []);
  const p50s = ok.map((l) => l.rttMs?.p50 ?? Number.NaN).filter(Number.isFinite);
  const p99s = ok.map((l) => l.rttMs?.p99 ?? Number.NaN).filter(Number.isFinite);
  const pct = (xs: number[], p: number) => (xs.length ? round(percentile(xs, p), 1) : Number.NaN);
  return {
    geo,
    edge,
    relay: distinct(ok.map((l) => l.remoteCandidate)),
    expectedRelay,
    cluster: distinct(ok.map((l) => (l.sessionUrl ? clusterOf(l.sessionUrl) : undefined))),
    calls: lines.length,
    failed: lines.length - ok.length,
    setupMs: { p50: pct(setups, 50), p95: pct(setups, 95) },
    rttMs: echoes.length
      ? { p50: pct(echoes, 50), p99: pct(echoes, 99) }
      : { p50: pct(p50s, 50), p99: pct(p99s, 99) },
    predictedRttMs: predictedRttMs,
  };
}

/** The per-geo table `parley sim --report` prints. */
export function formatGeoTable(rows: readonly GeoReport[]): string {
  const head = [
    'geo',
    'edge',
    'relay',
    'relay ok',
    'cluster',
    'calls',
    'failed',
    'setup p50/p95 ms',
    'rtt p50/p99 ms',
    'predicted rtt ms',
  ];
  const body = rows.map((r) => [
    r.geo,
    r.edge,
    r.relay,
    r.relay === r.expectedRelay ? 'yes' : `no (want ${r.expectedRelay})`,
    r.cluster,
    String(r.calls),
    String(r.failed),
    `${r.setupMs.p50} / ${r.setupMs.p95}`,
    `${r.rttMs.p50} / ${r.rttMs.p99}`,
    String(r.predictedRttMs),
  ]);
  return [head, head.map(() => '---'), ...body].map((cols) => `| ${cols.join(' | ')} |`).join('\n');
}
