// Static checks on files that no renderer here consumes: the NATS Helm values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { k8sDir } from './lib/paths.js';

const values = (name: string) => parse(readFileSync(join(k8sDir, 'nats', name), 'utf8'));
const privateUrl = /^nats(-leaf)?:\/\/(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/;

describe('NATS Helm values', () => {
  it('core: 3-node cluster, named gateway, leaf-node listener, no public exposure', () => {
    const v = values('values-core.yaml');
    expect(v.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(v.config.gateway.enabled).toBe(true);
    expect(v.config.gateway.merge.name).toMatch(/^core-/);
    for (const g of v.config.gateway.merge.gateways ?? [])
      for (const u of g.urls) expect(u).toMatch(privateUrl);
    expect(v.config.leafnodes.enabled).toBe(true);
    const annotations = v.service.merge.metadata.annotations;
    expect(annotations['service.beta.kubernetes.io/aws-load-balancer-scheme']).toBe('internal');
    for (const r of v.service.merge.spec.loadBalancerSourceRanges) expect(r).not.toMatch(/^0\.0\.0\.0|^::\//);
  });

  it('edge: a leaf server linked to the core over private addresses', () => {
    const v = values('values-edge-leaf.yaml');
    const urls: string[] = v.config.leafnodes.merge.remotes.flatMap((r: { urls: string[] }) => r.urls);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u).toMatch(/^nats-leaf:\/\//);
    for (const u of urls) expect(u).toMatch(privateUrl);
    expect(v.service.merge.spec.type).toBe('ClusterIP');
  });

  it("edge: JetStream in memory under the region's own domain, for the relays' flow cache", () => {
    const v = values('values-edge-leaf.yaml');
    expect(v.config.jetstream.enabled).toBe(true);
    expect(v.config.jetstream.fileStore.enabled).toBe(false);
    expect(v.config.jetstream.memoryStore.enabled).toBe(true);
    expect(v.config.jetstream.merge.domain).toMatch(/^edge-/);
  });
});
