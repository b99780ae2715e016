import { describe, expect, it } from 'vitest';
import {
  buildTopology,
  coresByDistance,
  nearestEdge,
  predictedCallRttMs,
  readTopologyFile,
} from './topology.js';

describe('simulation topology (the file Terraform reads)', () => {
  const file = readTopologyFile();

  it('gives every pair of sites an RTT, symmetric, geos through their nearest region', () => {
    const t = buildTopology(file);
    expect(t.sites.map((s) => s.kind)).toEqual(['core', 'core', 'edge', 'edge', 'edge', 'geo', 'geo', 'geo']);
    expect(t.rttMs('eu-west-1', 'eu-central-1')).toBe(file.rtt_ms['eu-west-1']?.['eu-central-1']);
    expect(t.rttMs('eu-central-1', 'eu-west-1')).toBe(t.rttMs('eu-west-1', 'eu-central-1'));
    expect(t.rttMs('london', 'eu-west-1')).toBe(file.client_geos.london?.access_rtt_ms);
    expect(t.rttMs('london', 'us-east-2')).toBe(
      (file.client_geos.london?.access_rtt_ms ?? 0) + (file.rtt_ms['us-east-2']?.['eu-west-1'] ?? 0),
    );
    expect(t.site('london').address).toBe('10.99.7.2');
  });

  it('sends each geo to its nearest edge, and each edge to its nearest core first, as the Terraform example says', () => {
    const t = buildTopology(file);
    for (const g of t.geos) expect(nearestEdge(t, g)).toBe(file.client_geos[g]?.near);
    for (const e of t.edges) expect(coresByDistance(t, e)[0]).toBe(file.edges[e]?.core);
    expect(predictedCallRttMs(t, 'london', 'eu-west-1', 'eu-central-1')).toBe(
      t.rttMs('london', 'eu-west-1') + t.rttMs('eu-west-1', 'eu-central-1'),
    );
  });

  it('builds subsets and refuses names it does not know', () => {
    const t = buildTopology(file, { edges: ['us-east-1', 'eu-west-1'], geos: ['new-york', 'london'] });
    expect(t.sites.map((s) => s.name)).toEqual([
      'us-east-2',
      'eu-central-1',
      'us-east-1',
      'eu-west-1',
      'new-york',
      'london',
    ]);
    expect(() => buildTopology(file, { cores: ['mars-1'] })).toThrow(/unknown core region "mars-1"/);
  });
});
