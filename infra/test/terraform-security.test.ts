// Network and IAM security rules, checked on the parsed HCL (always runs).
import { beforeAll, describe, expect, it } from 'vitest';
import { type Body, blocks, expr, loadTerraform, resources, type TfFile } from './lib/hcl.js';
import { modulesDir, rel } from './lib/paths.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL interpolation, compared as the parsed text
const TCP_PORT_EXPR = '${local.relay_tcp_public_port}';

const WORLD = new Set(['0.0.0.0/0', '::/0']);

interface Rule {
  where: string;
  dir: string;
  direction: 'ingress' | 'egress';
  sg: string; // expression of the security group the rule belongs to
  protocol: string;
  from: unknown;
  to: unknown;
  cidrs: string[];
  forEach?: string;
}

let files: TfFile[] = [];
let rules: Rule[] = [];

/** Normalises standalone rule resources, legacy rules and inline blocks. */
function collectRules(fs: TfFile[]): Rule[] {
  const out: Rule[] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    for (const r of resources(fs, `aws_vpc_security_group_${direction}_rule`)) {
      out.push({
        where: `${rel(r.file.path)}: ${r.name}`,
        dir: r.file.dir,
        direction,
        sg: expr(r.body.security_group_id),
        protocol: String(r.body.ip_protocol),
        from: r.body.from_port,
        to: r.body.to_port,
        cidrs: [r.body.cidr_ipv4, r.body.cidr_ipv6].filter(Boolean).map(String),
        forEach: r.body.for_each && expr(r.body.for_each),
      });
    }
  }
  for (const r of resources(fs, 'aws_security_group_rule')) {
    out.push({
      where: `${rel(r.file.path)}: ${r.name}`,
      dir: r.file.dir,
      direction: r.body.type,
      sg: expr(r.body.security_group_id),
      protocol: String(r.body.protocol),
      from: r.body.from_port,
      to: r.body.to_port,
      cidrs: [...(r.body.cidr_blocks ?? []), ...(r.body.ipv6_cidr_blocks ?? [])].map(String),
    });
  }
  for (const sg of resources(fs, 'aws_security_group')) {
    for (const direction of ['ingress', 'egress'] as const) {
      for (const b of (sg.body[direction] ?? []) as Body[]) {
        out.push({
          where: `${rel(sg.file.path)}: ${sg.name} (inline ${direction})`,
          dir: sg.file.dir,
          direction,
          sg: `aws_security_group.${sg.name}.id`,
          protocol: String(b.protocol),
          from: b.from_port,
          to: b.to_port,
          cidrs: [...(b.cidr_blocks ?? []), ...(b.ipv6_cidr_blocks ?? [])].map(String),
        });
      }
    }
  }
  return out;
}

const worldOpen = (r: Rule) => r.cidrs.some((c) => WORLD.has(c));
const moduleDir = (name: string) => `${modulesDir}/${name}`;

beforeAll(async () => {
  files = await loadTerraform();
  rules = collectRules(files);
});

describe('public exposure', () => {
  it('finds security group rules to check', () => {
    expect(rules.filter((r) => r.direction === 'ingress').length).toBeGreaterThanOrEqual(12);
  });

  it("the relay NLB's security group opens exactly two ports to the world: UDP 3478 and ICE-TCP 443", () => {
    const nlbs = resources(files, 'aws_lb').filter((l) => l.body.load_balancer_type === 'network');
    expect(nlbs.length).toBe(1);
    const nlbSgs: string[] = nlbs[0].body.security_groups.map(expr);
    expect(nlbSgs.length).toBe(1);
    const publicRules = rules.filter(
      (r) => r.dir === nlbs[0].file.dir && r.sg === nlbSgs[0] && r.direction === 'ingress' && worldOpen(r),
    );
    expect(publicRules.map((r) => [r.protocol, r.from, r.to]).sort()).toEqual([
      ['tcp', TCP_PORT_EXPR, TCP_PORT_EXPR],
      ['udp', 3478, 3478],
    ]);
    // ...and nothing else reaches that security group at all.
    expect(rules.filter((r) => r.sg === nlbSgs[0] && r.direction === 'ingress').length).toBe(2);
  });

  it('the only other world-open ingress is HTTPS on the signaling ALB', () => {
    const albs = resources(files, 'aws_lb').filter((l) => l.body.load_balancer_type === 'application');
    expect(albs.length).toBe(1);
    const albSgs: string[] = albs[0].body.security_groups.map(expr);
    const nlbSgs: string[] = resources(files, 'aws_lb')
      .filter((l) => l.body.load_balancer_type === 'network')
      .flatMap((l) => l.body.security_groups.map(expr));
    const others = rules.filter((r) => r.direction === 'ingress' && worldOpen(r) && !nlbSgs.includes(r.sg));
    expect(others.map((r) => [r.sg, r.protocol, r.from, r.to])).toEqual(
      albSgs.map((sg) => [sg, 'tcp', 443, 443]),
    );
  });

  it('there is no plain-HTTP listener', () => {
    const listeners = resources(files, 'aws_lb_listener');
    expect(listeners.filter((l) => l.body.protocol === 'HTTP')).toEqual([]);
    expect(listeners.map((l) => l.body.protocol).sort()).toEqual(['HTTPS', 'TCP', 'UDP']);
  });

  it('world-wide egress is limited to HTTPS (AWS APIs, registry)', () => {
    const bad = rules.filter(
      (r) => r.direction === 'egress' && worldOpen(r) && !(r.protocol === 'tcp' && r.from === 443),
    );
    expect(bad.map((r) => r.where)).toEqual([]);
  });

  it('no instance gets a public IP', () => {
    const lt = resources(files, 'aws_launch_template');
    expect(
      lt.flatMap((l) => l.body.network_interfaces ?? []).filter((n: Body) => n.associate_public_ip_address),
    ).toEqual([]);
    expect(resources(files, 'aws_instance').filter((i) => i.body.associate_public_ip_address)).toEqual([]);
  });
});

describe('core regions (transceivers and NATS)', () => {
  const coreDirs = [moduleDir('core-cluster'), moduleDir('nats-cluster')];

  it('admit nothing from 0.0.0.0/0 or ::/0', () => {
    const coreIngress = rules.filter((r) => coreDirs.includes(r.dir) && r.direction === 'ingress');
    expect(coreIngress.length).toBeGreaterThan(5);
    expect(coreIngress.filter(worldOpen).map((r) => r.where)).toEqual([]);
  });

  it('CIDR-sourced ingress comes only from variables validated as RFC 1918', () => {
    const vars = new Map(
      files
        .filter((f) => coreDirs.includes(f.dir))
        .flatMap((f) => Object.entries(f.json.variable ?? {}) as [string, Body[]][]),
    );
    const cidrRules = rules.filter(
      (r) => coreDirs.includes(r.dir) && r.direction === 'ingress' && r.cidrs.length > 0,
    );
    expect(cidrRules.length).toBeGreaterThan(3);
    for (const r of cidrRules) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
      expect(r.cidrs, r.where).toEqual(['${each.value}']);
      const name = /^toset\(var\.(\w+)\)$/.exec(r.forEach ?? '')?.[1];
      expect(name, `${r.where} must iterate over a variable`).toBeDefined();
      const conditions = (vars.get(name as string)?.[0]?.validation ?? []).map((v: Body) =>
        String(v.condition),
      );
      expect(
        conditions.some((c: string) => c.includes('10.0.0.0/8') && c.includes('192.168.0.0/16')),
        r.where,
      ).toBe(true);
    }
  });

  it("the transceivers' one ICE port is their only UDP ingress, open only to the relay source CIDRs", () => {
    const ice = rules.filter(
      (r) =>
        r.dir === moduleDir('core-cluster') &&
        r.sg === 'module.transceiver_fleet.security_group_id' &&
        r.direction === 'ingress' &&
        r.protocol === 'udp',
    );
    expect(ice.map((r) => [r.from, r.to, r.forEach])).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
      ['${var.ice_port}', '${var.ice_port}', 'toset(var.relay_source_cidrs)'],
    ]);
    // Nothing else admits UDP (or all protocols) to the transceivers.
    const other = rules.filter(
      (r) =>
        r.sg === 'module.transceiver_fleet.security_group_id' &&
        r.direction === 'ingress' &&
        r.protocol !== 'tcp' &&
        !ice.includes(r),
    );
    expect(other.map((r) => r.where)).toEqual([]);
  });

  it('relays may send UDP into core regions only to that one ICE port', () => {
    const toCore = rules.filter(
      (r) =>
        r.dir === moduleDir('edge-region') &&
        r.direction === 'egress' &&
        r.protocol === 'udp' &&
        r.forEach === 'toset(var.core_private_cidrs)',
    );
    expect(toCore.map((r) => [r.sg, r.from, r.to])).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
      ['module.relay_fleet.security_group_id', '${var.ice_port}', '${var.ice_port}'],
    ]);
  });

  it('edge and core agree on the ICE port: one number, same default and validation, one value in the example', () => {
    const iceVar = (module: string) =>
      files
        .filter((f) => f.dir === moduleDir(module))
        .flatMap((f) => (f.json.variable?.ice_port ?? []) as Body[])[0];
    const edge = iceVar('edge-region');
    const core = iceVar('core-cluster');
    for (const v of [edge, core]) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
      expect(v?.type).toBe('${number}');
      expect(v?.default).toBe(20000);
      expect(String(v?.validation?.[0]?.condition)).toContain(
        'var.ice_port >= 1024 && var.ice_port <= 65535',
      );
    }
    for (const module of ['edge-region', 'core-cluster']) {
      const range = files.filter((f) => f.dir === moduleDir(module) && f.json.variable?.ice_port_range);
      expect(range.map((f) => rel(f.path))).toEqual([]);
    }
    // The example's edge and core stacks both take it from the topology.
    const calls = blocks(files, 'module').filter((m) =>
      /modules\/(edge-region|core-cluster)$/.test(String(m.body.source)),
    );
    expect(calls.map((m) => m.name).sort()).toEqual(['core', 'edge']);
    for (const m of calls) expect(expr(m.body.ice_port), rel(m.file.path)).toBe('module.topology.ice_port');
  });

  it("NATS's client port admits only security groups and validated edge CIDRs", () => {
    const client = rules.filter(
      (r) =>
        r.dir === moduleDir('nats-cluster') &&
        r.direction === 'ingress' &&
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
        r.from === '${local.ports.client}',
    );
    expect(client.map((r) => r.forEach).sort()).toEqual([
      'toset(var.client_cidrs)',
      'var.client_security_groups',
    ]);
  });
});

describe('instances', () => {
  it('launch templates require IMDSv2 and encrypt every volume', () => {
    const lts = resources(files, 'aws_launch_template');
    expect(lts.length).toBeGreaterThan(0);
    for (const lt of lts) {
      expect(lt.body.metadata_options?.[0]?.http_tokens, lt.name).toBe('required');
      const ebs = (lt.body.block_device_mappings ?? []).flatMap((b: Body) => b.ebs ?? []);
      expect(ebs.length, lt.name).toBeGreaterThan(0);
      for (const e of ebs) expect(e.encrypted, lt.name).toBe(true);
    }
  });

  it('standalone instances require IMDSv2 and encrypt their root volume', () => {
    const instances = resources(files, 'aws_instance');
    expect(instances.length).toBeGreaterThan(0);
    for (const i of instances) {
      expect(i.body.metadata_options?.[0]?.http_tokens, i.name).toBe('required');
      expect(i.body.root_block_device?.[0]?.encrypted, i.name).toBe(true);
    }
  });
});

describe('IAM and secrets', () => {
  const allText = () => files.map((f) => ({ path: rel(f.path), text: f.text }));

  it('no wildcard actions', () => {
    const hits = allText().filter(({ text }) => /"[a-z0-9-]+:\*"|Action\s*=\s*"\*"|"\*:\*"/i.test(text));
    expect(hits.map((h) => h.path)).toEqual([]);
  });

  it('Resource "*" only for ecr:GetAuthorizationToken (which has no resource scoping)', () => {
    for (const { path, text } of allText()) {
      for (const m of text.matchAll(/Resource\s*=\s*"\*"/g)) {
        const statement = text.slice(Math.max(0, (m.index ?? 0) - 200), m.index);
        expect(statement, path).toMatch(/Action\s*=\s*\["ecr:GetAuthorizationToken"\]/);
      }
    }
  });

  it('secret reads are scoped to the configured secret ARNs', () => {
    const fleet = files.find((f) => f.path.endsWith('modules/fleet/iam.tf'));
    expect(fleet?.text).toMatch(
      /secretsmanager:GetSecretValue"\]\s*\n\s*Resource\s*=\s*sort\(distinct\(values\(var\.secret_environment\)\)\)/,
    );
  });

  it('secret values never appear as literals; they are only referenced by ARN', () => {
    const literal = /\b(PARLEY_TOKEN_KEYS|PARLEY_AUTH_JWT_SECRET|NATS_PASSWORD)\s*=\s*"/;
    expect(
      allText()
        .filter(({ text }) => literal.test(text))
        .map((h) => h.path),
    ).toEqual([]);
    // Where the names appear, they map to secret ARNs.
    for (const { path, text } of allText()) {
      for (const m of text.matchAll(/\b(PARLEY_TOKEN_KEYS|PARLEY_AUTH_JWT_SECRET)\s*=\s*([^\n]+)/g)) {
        expect(m[2], path).toMatch(/secret_arn/);
      }
    }
  });
});
