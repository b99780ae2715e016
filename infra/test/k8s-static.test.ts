// Static checks on files that no renderer here consumes: the NATS Helm values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { blocks, expr, loadTerraform } from './lib/hcl.js';
import { examplesDir, k8sDir, modulesDir } from './lib/paths.js';

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

// Terraform deploys the same edge leaf as the Kubernetes overlay: the relays' flow cache needs
// JetStream in the region, under the same domain and bucket names (edge-<region>,
// parley-relay-flows-<region>); without it, relays deployed by Terraform would fall back to
// waiting for consent checks after a restart. `terraform test` checks the rendered config.
describe('Terraform edge leaf NATS matches the Kubernetes one', () => {
  const region = 'eu-west-1';
  const params = Object.fromEntries(
    readFileSync(join(k8sDir, 'overlays', 'edge-region', 'params.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  // Terraform interpolation of the region, as this module writes it.
  const at = (template: string) => template.replace(/\$\{local\.region_name\}/, region);

  it('same JetStream domain and flow cache bucket per region, and every example edge deploys it', async () => {
    const files = await loadTerraform();
    const edgeRegion = join(modulesDir, 'edge-region');
    const nats = blocks(files, 'module').find((m) => m.file.dir === edgeRegion && m.name === 'nats');
    expect(expr(nats?.body.source)).toBe('../nats-cluster');
    const domain = String(nats?.body.jetstream?.domain ?? '');
    expect(at(domain)).toBe(values('values-edge-leaf.yaml').config.jetstream.merge.domain);
    const mainTf = files.find((f) => f.path === join(edgeRegion, 'main.tf'));
    const bucket = expr(mainTf?.json.locals?.[0]?.flow_cache_bucket);
    expect(at(bucket)).toBe(params.PARLEY_RELAY_FLOW_CACHE_BUCKET);
    expect(params.PARLEY_RELAY_FLOW_CACHE).toBe('kv');
    // Every example edge stack gives the module its leaf subnets and the core's leaf-node URLs.
    const edgeCalls = blocks(files, 'module').filter(
      (m) => String(m.body.source).endsWith('modules/edge-region') && m.file.dir.startsWith(examplesDir),
    );
    expect(edgeCalls.length).toBeGreaterThan(0);
    for (const m of edgeCalls) {
      expect(expr(m.body.nats_subnets), m.file.path).toContain('private_subnet_ids["app"]');
      expect(expr(m.body.nats_leafnode_urls), m.file.path).toBe('local.core.nats_leafnode_urls');
    }
  });
});
