import type { TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { describe, expect, it } from 'vitest';
import {
  type ClusterConfig,
  clusterStandings,
  type PlacementInput,
  parseClusterList,
  parseGeoHints,
  placeSession,
  resolveGeoHint,
} from './placement.js';

function t(id: string, cluster: string, over: Partial<TransceiverAnnounce> = {}): TransceiverAnnounce {
  return {
    id,
    routeId: '0123456789ab',
    cluster,
    region: cluster,
    address: '10.0.0.1',
    port: 20000,
    sessions: 0,
    capacity: 10,
    draining: false,
    version: 'test',
    sentAt: 0,
    ...over,
  };
}

// An edge in eu-west-1: Frankfurt is near, Ohio far, Singapore farther.
const CLUSTERS: ClusterConfig[] = [
  { name: 'us', fallbackRttMs: 75 },
  { name: 'eu', fallbackRttMs: 25 },
  { name: 'ap', fallbackRttMs: 160 },
];
const ALL = [t('us-1', 'us'), t('eu-1', 'eu'), t('eu-2', 'eu', { sessions: 5 }), t('ap-1', 'ap')];

interface Case {
  name: string;
  input: Partial<PlacementInput>;
  want: string | 'no_capacity' | 'no_transceivers';
}

const cases: Case[] = [
  { name: 'nearest healthy cluster, least-loaded transceiver in it', input: {}, want: 'eu/eu-1' },
  {
    name: 'measured RTT overrides the configured fallback',
    input: { measuredRttMs: new Map([['us', 10]]) },
    want: 'us/us-1',
  },
  {
    name: 'a measurement only for some clusters: the others keep their fallback',
    input: { measuredRttMs: new Map([['eu', 90]]) },
    want: 'us/us-1',
  },
  {
    name: 'nearest cluster full (announced) → next nearest',
    input: {
      transceivers: [t('eu-1', 'eu', { sessions: 10 }), t('us-1', 'us'), t('ap-1', 'ap')],
    },
    want: 'us/us-1',
  },
  {
    name: 'nearest cluster full counting pending sessions → next nearest',
    input: {
      transceivers: [t('eu-1', 'eu', { sessions: 8 }), t('us-1', 'us')],
      pending: new Map([['eu-1', 2]]),
    },
    want: 'us/us-1',
  },
  {
    name: 'nearest cluster draining → next nearest',
    input: { transceivers: [t('eu-1', 'eu', { draining: true }), t('ap-1', 'ap')] },
    want: 'ap/ap-1',
  },
  {
    name: 'nearest cluster gone from discovery → next nearest',
    input: { transceivers: [t('us-1', 'us'), t('ap-1', 'ap')] },
    want: 'us/us-1',
  },
  {
    name: 'a failed transceiver is skipped inside its cluster first',
    input: { excludeTransceivers: new Set(['eu-1']) },
    want: 'eu/eu-2',
  },
  {
    name: 'a cluster that failed at the mesh level is skipped whole',
    input: { excludeClusters: new Set(['eu']) },
    want: 'us/us-1',
  },
  { name: 'the geo hint goes first when it has room', input: { hintedCluster: 'ap' }, want: 'ap/ap-1' },
  {
    name: 'a hinted cluster without room falls back to distance order',
    input: { hintedCluster: 'ap', transceivers: [t('ap-1', 'ap', { sessions: 10 }), t('us-1', 'us')] },
    want: 'us/us-1',
  },
  {
    name: 'a hint naming a cluster this edge may not use is ignored',
    input: { hintedCluster: 'mars' },
    want: 'eu/eu-1',
  },
  {
    name: 'clusters not configured for this edge never get sessions',
    input: { clusters: [{ name: 'eu', fallbackRttMs: 25 }], transceivers: [t('us-1', 'us')] },
    want: 'no_transceivers',
  },
  {
    name: 'unknown RTT sorts last, but is still used when nothing else has room',
    input: {
      clusters: [{ name: 'us' }, { name: 'eu', fallbackRttMs: 25 }],
      transceivers: [t('us-1', 'us'), t('eu-1', 'eu', { sessions: 10 })],
    },
    want: 'us/us-1',
  },
  {
    name: 'equal RTT: the less loaded cluster',
    input: {
      clusters: [
        { name: 'a', fallbackRttMs: 20 },
        { name: 'b', fallbackRttMs: 20 },
      ],
      transceivers: [t('a-1', 'a', { sessions: 6 }), t('b-1', 'b', { sessions: 2 })],
    },
    want: 'b/b-1',
  },
  {
    name: 'every cluster full → no_capacity',
    input: { transceivers: [t('eu-1', 'eu', { sessions: 10 }), t('us-1', 'us', { draining: true })] },
    want: 'no_capacity',
  },
  { name: 'nothing announced → no_transceivers', input: { transceivers: [] }, want: 'no_transceivers' },
  {
    name: 'everything excluded → no_transceivers',
    input: { excludeClusters: new Set(['eu', 'us', 'ap']) },
    want: 'no_transceivers',
  },
];

describe('placeSession', () => {
  it.each(cases)('$name', ({ input, want }) => {
    const p = placeSession({ clusters: CLUSTERS, transceivers: ALL, ...input });
    expect(p.ok ? `${p.cluster}/${p.transceiver.id}` : p.reason).toBe(want);
  });

  it('says whether the hint decided', () => {
    const hinted = placeSession({ clusters: CLUSTERS, transceivers: ALL, hintedCluster: 'us' });
    const plain = placeSession({ clusters: CLUSTERS, transceivers: ALL });
    expect(hinted.ok && hinted.hinted).toBe(true);
    expect(plain.ok && plain.hinted).toBe(false);
  });
});

describe('clusterStandings', () => {
  it('reports RTT source, healthy transceivers, room and load per cluster', () => {
    const s = clusterStandings({
      clusters: [{ name: 'eu', fallbackRttMs: 25 }, { name: 'us' }],
      measuredRttMs: new Map([['eu', 31.5]]),
      transceivers: [t('eu-1', 'eu', { sessions: 4 }), t('eu-2', 'eu', { draining: true }), t('eu-3', 'eu')],
      pending: new Map([['eu-1', 1]]),
    });
    expect(s).toEqual([
      { name: 'eu', rttMs: 31.5, rttSource: 'measured', healthy: 2, room: 15, load: 0.25 },
      { name: 'us', rttMs: Number.POSITIVE_INFINITY, rttSource: 'unknown', healthy: 0, room: 0, load: 1 },
    ]);
  });
});

describe('configuration parsing', () => {
  it.each([
    [
      'eu:25,us:75.5',
      [
        { name: 'eu', fallbackRttMs: 25 },
        { name: 'us', fallbackRttMs: 75.5 },
      ],
    ],
    [' core-a , core-b:3 ', [{ name: 'core-a' }, { name: 'core-b', fallbackRttMs: 3 }]],
  ])('cluster list %s', (s, want) => expect(parseClusterList(s)).toEqual(want));

  it.each(['', 'eu:x', 'eu,eu', 'a b', 'eu:-1'])('rejects cluster list %j', (s) => {
    expect(() => parseClusterList(s)).toThrow();
  });

  it('geo hints match case-insensitively and unknown hints resolve to nothing', () => {
    const table = parseGeoHints('EU:core-eu, na:core-us');
    expect(resolveGeoHint('eu', table)).toBe('core-eu');
    expect(resolveGeoHint(' NA ', table)).toBe('core-us');
    expect(resolveGeoHint('AS', table)).toBeUndefined();
    expect(resolveGeoHint(undefined, table)).toBeUndefined();
    expect(resolveGeoHint('EU', undefined)).toBeUndefined();
    expect(() => parseGeoHints('EU=core-eu')).toThrow();
  });
});
