// The alert rules through Prometheus's own tool: `promtool check rules` parses
// every expression with the real PromQL parser (observability.test.ts only
// checks structure and metric names), and `promtool test rules` evaluates them
// on the synthetic series of alerts.test.yml. promtool comes from Debian's
// prometheus package, which .ci/run installs with its server kept stopped.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findExecutable, type RunResult, run } from './lib/tools.js';

const DIR = fileURLToPath(new URL('../observability/', import.meta.url));
const promtool = findExecutable('promtool', ['/usr/bin/promtool']);
const show = (r: RunResult) => `exit ${r.code} after ${r.ms} ms\n${r.stdout}\n${r.stderr}`;

function need(): string {
  if (promtool === undefined)
    throw new Error("promtool is not on PATH: install Debian's prometheus package (.ci/run does)");
  return promtool;
}

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('alert rules under promtool', () => {
  it('promtool check rules accepts every rule', async () => {
    const r = await run(need(), ['check', 'rules', 'alerts.yml'], { cwd: DIR, timeoutMs: 30_000 });
    expect(r.ok, show(r)).toBe(true);
    const doc = parse(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: unknown[] }[] };
    const rules = doc.groups.reduce((n, g) => n + g.rules.length, 0);
    expect(r.stdout).toContain(`SUCCESS: ${rules} rules found`);
  });

  it('promtool test rules: the alerts fire on synthetic series, and only after their `for`', async () => {
    const tests = parse(readFileSync(join(DIR, 'alerts.test.yml'), 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((t) =>
        t.alert_rule_test.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname),
      ),
    );
    expect(firing.size).toBeGreaterThanOrEqual(2);
    const r = await run(need(), ['test', 'rules', 'alerts.test.yml'], { cwd: DIR, timeoutMs: 30_000 });
    expect(r.ok, show(r)).toBe(true);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('promtool test rules fails when an expectation is wrong (the check can fail)', async () => {
    // The same rules, one expectation moved before the alert's `for: 2m` has passed.
    const dir = mkdtempSync(join(tmpdir(), 'parley-promtool-'));
    scratch.push(dir);
    copyFileSync(join(DIR, 'alerts.yml'), join(dir, 'alerts.yml'));
    const text = readFileSync(join(DIR, 'alerts.test.yml'), 'utf8');
    const early = text.replace(
      /(- eval_time: )6m(\n\s+alertname: ParleyTargetDown)/,
      (_, a: string, b: string) => `${a}4m${b}`,
    );
    expect(early).not.toBe(text);
    writeFileSync(join(dir, 'alerts.test.yml'), early);
    const r = await run(need(), ['test', 'rules', 'alerts.test.yml'], { cwd: dir, timeoutMs: 30_000 });
    expect(r.ok, show(r)).toBe(false);
    expect(`${r.stdout}${r.stderr}`).toMatch(/FAILED[\s\S]*ParleyTargetDown/);
  });
});
