import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateOffer } from '@parley/edge/signaling/offer-validation.js';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildOptions, geoOf, LOAD_ZONES, SLO } from '../k6/k6-options.ts';
import { makeOffer } from '../k6/sdp-offer.ts';

const K6_DIR = fileURLToPath(new URL('../k6/', import.meta.url));
const random = (n: number) => [...randomBytes(n)];

/** Compiles the k6 project (its own tsconfig, @types/k6) and returns every diagnostic. */
function typeCheck(): string[] {
  const configPath = `${K6_DIR}tsconfig.json`;
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) return [ts.flattenDiagnosticMessageText(read.error.messageText, '\n')];
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, K6_DIR);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  return [...parsed.errors, ...ts.getPreEmitDiagnostics(program)].map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    return `${d.file?.fileName ?? ''}${where ? `:${where.line + 1}` : ''} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('k6 scripts', () => {
  it('type-check against @types/k6 with their own tsconfig, and the main build leaves them out', () => {
    const files = ts
      .parseJsonConfigFileContent(
        ts.readConfigFile(`${K6_DIR}tsconfig.json`, ts.sys.readFile).config,
        ts.sys,
        K6_DIR,
      )
      .fileNames.map((f) => f.slice(K6_DIR.length));
    expect(files.sort()).toEqual(['k6-options.ts', 'sdp-offer.ts', 'signaling.ts']);
    expect(typeCheck()).toEqual([]);
    const main = JSON.parse(
      readFileSync(fileURLToPath(new URL('../tsconfig.json', import.meta.url)), 'utf8'),
    );
    expect(main.include).toEqual(['src']);
  });

  it('the script exports options built from k6-options and a default iteration, importing only k6 and local files', () => {
    const src = ts.createSourceFile(
      'signaling.ts',
      readFileSync(`${K6_DIR}signaling.ts`, 'utf8'),
      ts.ScriptTarget.ES2020,
    );
    const imports = src.statements
      .filter(ts.isImportDeclaration)
      .map((s) => (s.moduleSpecifier as ts.StringLiteral).text);
    expect(imports.every((m) => m === 'k6' || m.startsWith('k6/') || m.startsWith('./'))).toBe(true);
    const exported = src.statements.filter((s) =>
      ts.canHaveModifiers(s)
        ? ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
        : false,
    );
    const names = exported.flatMap((s) =>
      ts.isVariableStatement(s)
        ? s.declarationList.declarations.map((d) => d.name.getText(src))
        : ts.isFunctionDeclaration(s)
          ? [
              s.modifiers?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)
                ? 'default'
                : (s.name?.text ?? ''),
            ]
          : [],
    );
    expect(names).toEqual(['options', 'default']);
    expect(src.getText()).toContain('buildOptions(__ENV)');
  });
});

describe('k6 options', () => {
  it('ramps the arrival rate to PARLEY_RATE, holds it, and ramps down, with enough VUs', () => {
    const o = buildOptions({ PARLEY_RATE: '120', PARLEY_RAMP: '1m', PARLEY_HOLD: '3m' });
    const s = o.scenarios?.create_delete;
    expect(s?.executor).toBe('ramping-arrival-rate');
    if (s?.executor !== 'ramping-arrival-rate') throw new Error('wrong executor');
    expect(s.stages).toEqual([
      { target: 120, duration: '1m' },
      { target: 120, duration: '3m' },
      { target: 0, duration: '30s' },
    ]);
    expect(s.startRate).toBe(12);
    expect(s.preAllocatedVUs).toBeLessThanOrEqual(s.maxVUs ?? 0);
    expect(s.maxVUs).toBe(480);
    expect(() => buildOptions({ PARLEY_RATE: 'lots' })).toThrow(/PARLEY_RATE/);
    expect(buildOptions({}).scenarios?.create_delete).toMatchObject({ maxVUs: 200 });
  });

  it('encodes the signaling SLOs as thresholds, per geo too, with an abort on a broken system', () => {
    const t = buildOptions({}).thresholds ?? {};
    expect(t.parley_session_create_ms).toEqual([`p(95)<${SLO.createP95Ms}`, `p(99)<${SLO.createP99Ms}`]);
    expect(t.parley_session_delete_ms).toEqual([`p(95)<${SLO.deleteP95Ms}`]);
    expect(t.parley_session_created?.[0]).toBe('rate>0.99');
    expect(t.parley_session_created?.[1]).toMatchObject({ abortOnFail: true, threshold: 'rate>0.9' });
    for (const geo of Object.keys(LOAD_ZONES))
      expect(t[`parley_session_create_ms{geo:${geo}}`]).toEqual(['p(95)<300']);
    // Every threshold names a metric the script records.
    const script = readFileSync(`${K6_DIR}signaling.ts`, 'utf8');
    for (const name of Object.keys(t)) expect(script).toContain(`'${name.split('{')[0]}'`);
  });

  it('spreads k6 Cloud load over several geos whose shares add up to 100 %', () => {
    const dist = buildOptions({}).cloud?.distribution as Record<
      string,
      { loadZone: string; percent: number }
    >;
    const zones = Object.values(dist);
    expect(zones.length).toBeGreaterThanOrEqual(3);
    expect(zones.reduce((a, z) => a + z.percent, 0)).toBe(100);
    for (const z of zones) expect(z.loadZone).toMatch(/^amazon:[a-z]{2}:[a-z ]+$/);
    expect(new Set(zones.map((z) => z.loadZone.split(':')[1])).size).toBeGreaterThanOrEqual(3);
    expect(geoOf({ GEO: 'eu-west', K6_CLOUDRUN_DISTRIBUTION: 'x' })).toBe('eu-west');
    expect(geoOf({ K6_CLOUDRUN_DISTRIBUTION: 'us-east' })).toBe('us-east');
  });
});

describe('k6 offers', () => {
  it('are offers the edge accepts, each with its own ICE credentials and fingerprint', () => {
    const a = makeOffer(random);
    const b = makeOffer(random);
    expect(validateOffer(a)).toEqual({ ok: true, audioMids: ['0'] });
    const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
    const fp = (sdp: string) => /a=fingerprint:sha-256 (\S+)/.exec(sdp)?.[1];
    expect(ufrag(a)).not.toBe(ufrag(b));
    expect(fp(a)).not.toBe(fp(b));
    expect(fp(a)).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(a.endsWith('\r\n')).toBe(true);
  });
});

describe('k6-operator TestRun manifests', () => {
  const dir = `${K6_DIR}operator/`;
  const manifests = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: f, doc: parse(readFileSync(dir + f, 'utf8')) }));

  it('one TestRun per geo, each running the signaling script from the shared ConfigMap in that geo', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(3);
    const geos = new Set<string>();
    for (const { file, doc } of manifests) {
      expect(doc.apiVersion).toBe('k6.io/v1alpha1');
      expect(doc.kind).toBe('TestRun');
      expect(doc.spec.parallelism).toBeGreaterThanOrEqual(1);
      expect(doc.spec.script.configMap).toEqual({ name: 'parley-k6-signaling', file: 'signaling.ts' });
      const env = Object.fromEntries(
        (doc.spec.runner.env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
          e.name,
          e,
        ]),
      );
      const geo = env.GEO?.value as string;
      geos.add(geo);
      expect(file).toBe(`testrun-${geo}.yaml`);
      expect(doc.metadata.labels['parley.dev/geo']).toBe(geo);
      expect(doc.spec.arguments).toContain(`--tag geo=${geo}`);
      expect(env.PARLEY_EDGE_URL?.value).toMatch(/^https:\/\//);
      // The token comes from a Secret, never inline.
      expect(env.PARLEY_TOKEN).toMatchObject({
        valueFrom: { secretKeyRef: { name: 'parley-k6-token', key: 'token' } },
      });
      expect(env.PARLEY_TOKEN?.value).toBeUndefined();
      expect(doc.spec.runner.nodeSelector['topology.kubernetes.io/region']).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
      expect(doc.spec.runner.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    }
    expect(geos.size).toBe(manifests.length);
  });
});
