// Structural rules for every Terraform file, checked by parsing HCL (always runs).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Block,
  type Body,
  blocks,
  expr,
  loadTerraform,
  resources,
  type TfFile,
  terraformBlocks,
} from './lib/hcl.js';
import { examplesDir, modulesDir, rel, terraformConfigDirs, walk } from './lib/paths.js';

const AWS_CONSTRAINT = '>= 5.100, < 6';
const { modules, examples } = terraformConfigDirs();

let files: TfFile[] = [];
beforeAll(async () => {
  files = await loadTerraform();
});

const inDir = (dir: string) => files.filter((f) => f.dir === dir);
const isRoot = (dir: string) => terraformBlocks(files, dir).some((t) => t.backend);
const usesAws = (dir: string) =>
  inDir(dir).some((f) =>
    Object.keys({ ...f.json.resource, ...f.json.data }).some((t) => t.startsWith('aws_')),
  );

describe('terraform files', () => {
  it('finds the modules and example roots', () => {
    expect(modules.map((d) => basename(d))).toEqual(
      expect.arrayContaining(['network', 'edge-region', 'core-cluster', 'global']),
    );
    expect(examples.filter(isRoot).length).toBeGreaterThanOrEqual(7); // bootstrap, global, 3 edges, 2 cores
  });

  it('every variable has a type and a description', () => {
    const vars = blocks(files, 'variable');
    expect(vars.length).toBeGreaterThan(50);
    const bad = vars.filter((v) => !v.body.type || !String(v.body.description ?? '').trim());
    expect(bad.map((v) => `${rel(v.file.path)}: ${v.name}`)).toEqual([]);
  });

  it('every output has a description', () => {
    const bad = blocks(files, 'output').filter((o) => !String(o.body.description ?? '').trim());
    expect(bad.map((o) => `${rel(o.file.path)}: ${o.name}`)).toEqual([]);
  });

  it('variables that look secret have no default (null or empty only), unless sensitive', () => {
    const secretish = /secret|password|passwd|token|key|credential|private/i;
    // An empty map/list/null cannot carry a secret; anything else might.
    const empty = (d: unknown) =>
      d === null ||
      (Array.isArray(d) && d.length === 0) ||
      (typeof d === 'object' && Object.keys(d).length === 0);
    const offenders = blocks(files, 'variable').filter(
      (v: Block) =>
        secretish.test(v.name) && 'default' in v.body && !empty(v.body.default) && v.body.sensitive !== true,
    );
    expect(offenders.map((v) => `${rel(v.file.path)}: ${v.name}`)).toEqual([]);
  });

  it('no committed tfvars carry secret-looking values', () => {
    const tfvars = walk(examplesDir, (n) => /\.tfvars(\.json)?$/.test(n));
    const leaks = tfvars.filter((p) =>
      /^\s*"?\w*(secret|password|token|key)\w*"?\s*[=:]\s*"[^"]+"/im.test(readFileSync(p, 'utf8')),
    );
    expect(leaks.map(rel)).toEqual([]);
  });

  it('local module sources resolve to module directories', () => {
    const missing = blocks(files, 'module')
      .filter((m) => String(m.body.source).startsWith('.'))
      .filter((m) => !existsSync(join(resolve(m.file.dir, m.body.source), 'versions.tf')));
    expect(missing.map((m) => `${rel(m.file.path)}: ${m.name} -> ${m.body.source}`)).toEqual([]);
  });
});

describe.each(modules.map((d) => [basename(d), d]))('module %s', (_name, dir) => {
  it('has the standard layout and tests', () => {
    for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) {
      expect(existsSync(join(dir, f)), `${rel(dir)}/${f}`).toBe(true);
    }
    const tests = existsSync(join(dir, 'tests')) ? readdirSync(join(dir, 'tests')) : [];
    expect(tests.filter((t) => t.endsWith('.tftest.hcl')).length, `${rel(dir)}/tests`).toBeGreaterThan(0);
  });

  it('declares outputs and pins Terraform and the AWS provider in versions.tf', () => {
    expect(inDir(dir).flatMap((f) => Object.keys(f.json.output ?? {})).length).toBeGreaterThan(0);
    const tf = inDir(dir)
      .filter((f) => f.path.endsWith('versions.tf'))
      .flatMap((f) => f.json.terraform ?? []);
    expect(tf.length).toBe(1);
    expect(tf[0].required_version).toMatch(/^>= 1\.\d+/);
    if (usesAws(dir)) expect(tf[0].required_providers?.[0]?.aws?.version).toBe(AWS_CONSTRAINT);
  });

  it('README documents every input and output', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const names = inDir(dir).flatMap((f) => [
      ...Object.keys(f.json.variable ?? {}),
      ...Object.keys(f.json.output ?? {}),
    ]);
    expect(names.filter((n) => !readme.includes(`\`${n}\``))).toEqual([]);
  });

  it('configures no providers itself (roots do)', () => {
    expect(inDir(dir).filter((f) => f.json.provider)).toEqual([]);
  });
});

describe.each(examples.filter((d) => existsSync(join(d, 'versions.tf'))).map((d) => [rel(d), d]))(
  'example %s',
  (_name, dir) => {
    it('pins Terraform (and the AWS provider when it uses AWS)', () => {
      const tf = terraformBlocks(files, dir);
      expect(tf.length).toBe(1);
      expect(tf[0].required_version).toMatch(/^>= 1\.\d+/);
      if (usesAws(dir) || isRoot(dir))
        expect(tf[0].required_providers?.[0]?.aws?.version).toBe(AWS_CONSTRAINT);
    });

    it('roots use a remote backend and refuse the wrong account', () => {
      if (!isRoot(dir)) {
        expect(inDir(dir).filter((f) => f.json.provider)).toEqual([]); // data-only module
        return;
      }
      expect(Object.keys(terraformBlocks(files, dir)[0].backend)).toEqual(['s3']);
      const providers = blocks(inDir(dir), 'provider');
      expect(providers.length).toBeGreaterThan(0);
      for (const p of providers) expect(p.body.allowed_account_ids, `${rel(dir)} provider`).toBeDefined();
    });
  },
);

describe('example edge and core roots', () => {
  const edgeDirs = examples.filter((d) => basename(d).startsWith('edge-'));
  const coreDirs = examples.filter((d) => basename(d).startsWith('core-'));
  const regionOf = (d: string) => basename(d).replace(/^(edge|core)-/, '');
  const accepters = (d: string) =>
    blocks(inDir(d), 'module').filter((m) => String(m.body.source).endsWith('vpc-peering-accepter'));
  const stackCall = (d: string) => blocks(inDir(d), 'module').find((m) => m.name === 'stack');

  it('there are three edge roots, and they differ only in their region', () => {
    expect(edgeDirs.length).toBe(3);
    const normalised = edgeDirs.map((d) => {
      const region = regionOf(d);
      return readdirSync(d)
        .filter((n) => n.endsWith('.tf'))
        .sort()
        .map((n) => `${n}\n${readFileSync(join(d, n), 'utf8').replaceAll(region, 'REGION')}`)
        .join('\n');
    });
    expect(new Set(normalised).size).toBe(1);
  });

  // What a region deploys lives in the example's shared stack; a root only
  // names its region (and, for a core, the earlier cores), configures providers
  // and accepts peerings. So edge regions deploy the same thing but for the
  // region, and a core differs only in the cores it dials.
  it.each([
    ['edge', '../stacks/edge', ['image_tag', 'region']],
    ['core', '../stacks/core', ['earlier_cores', 'image_tag', 'region']],
  ])('%s roots call the shared stack with only the region-specific inputs', (kind, stack, inputs) => {
    const dirs = kind === 'edge' ? edgeDirs : coreDirs;
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) {
      const call = stackCall(d);
      expect(call?.body.source, rel(d)).toBe(stack);
      expect(
        Object.keys(call?.body ?? {})
          .filter((k) => k !== 'source')
          .sort(),
        rel(d),
      ).toEqual(inputs);
      expect(expr(call?.body.region), rel(d)).toBe('local.region');
      const locals = inDir(d).flatMap((f) => (f.json.locals ?? []) as Body[]);
      expect(locals.map((l) => l.region).filter(Boolean), rel(d)).toEqual([regionOf(d)]);
      const others = blocks(inDir(d), 'module').filter(
        (m) =>
          m.name !== 'stack' &&
          m.name !== 'topology' &&
          !String(m.body.source).endsWith('vpc-peering-accepter'),
      );
      expect(
        others.map((m) => m.name),
        rel(d),
      ).toEqual([]);
      expect(
        inDir(d)
          .filter((f) => f.json.resource || f.json.data)
          .map((f) => rel(f.path)),
      ).toEqual([]);
    }
  });

  /** Accepter providers, checking each reads the stack's peering for its own region. */
  const acceptedRegions = (d: string) =>
    accepters(d).map((m) => {
      const provider = expr(m.body.providers?.[0]?.aws ?? m.body.providers?.aws);
      const region = /^aws\.(\w+)$/.exec(provider)?.[1]?.replaceAll('_', '-');
      for (const input of ['name', 'peering_connection_id', 'route_table_ids', 'requester_cidr_block'])
        expect(expr(m.body[input]), `${rel(d)}: ${m.name}.${input}`).toBe(
          `module.stack.peerings["${region}"].${input}`,
        );
      return region;
    });

  it('edge roots accept a peering from every core region in the topology', () => {
    const cores = coreDirs.map(regionOf);
    expect(cores.length).toBe(2);
    for (const d of edgeDirs) expect(acceptedRegions(d).sort(), rel(d)).toEqual([...cores].sort());
  });

  it('core roots accept a peering from every earlier core they dial', () => {
    for (const d of coreDirs) {
      const earlier = (stackCall(d)?.body.earlier_cores ?? []) as string[];
      expect(acceptedRegions(d).sort(), rel(d)).toEqual([...earlier].sort());
    }
  });
});

it('modules/ holds only module directories', () => {
  expect(readdirSync(modulesDir).filter((n) => n.endsWith('.tf'))).toEqual([]);
  expect(resources(files, 'aws_instance').length).toBeGreaterThan(0); // sanity: parsing found resources
});
