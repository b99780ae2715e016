import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type DevStack, startDevStack } from '../../cli/src/dev-stack.js';
import { runCall } from '../../loadtest/src/call/call-client.js';

// The dashboard and the alert rules may only use metrics the processes really
// serve: checked against /metrics of a real edge, relay and transceiver (the
// built CLI, as `parley dev` runs them) after a real call through them.
const DASHBOARD = new URL('../observability/parley-dashboard.json', import.meta.url);
const ALERTS = new URL('../observability/alerts.yml', import.meta.url);

/** Added by Prometheus itself (scrape health, target labels), not by our processes. */
const FROM_PROMETHEUS = new Set(['up']);
const TARGET_LABELS = new Set(['job', 'instance', 'le']);

const PROMQL_WORDS = new Set([
  // aggregations and their modifiers
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'group',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  // functions used (any identifier directly followed by "(" is a function anyway)
  'rate',
  'irate',
  'increase',
  'deriv',
  'histogram_quantile',
  'label_values',
  'abs',
  'clamp_min',
  'inf',
  'nan',
]);

interface Selector {
  metric: string;
  labels: string[];
}

/** Metric names and the label names matched on them, from one PromQL expression. */
export function selectorsOf(expr: string): Selector[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\$__\w+|\$\w+/g, '5m') // Grafana variables
    .replace(/\[[^\]]*\]/g, ' '); // range selectors
  const out: Selector[] = [];
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
  // Skip the label lists of by (...) / without (...) / on (...).
  const grouping = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
  const stripped = text.replace(grouping, '$1 ');
  for (let m = re.exec(stripped); m; m = re.exec(stripped)) {
    const [, name = '', braces] = m;
    const after = stripped.slice(re.lastIndex).trimStart();
    if (PROMQL_WORDS.has(name) || (after.startsWith('(') && !braces)) continue;
    if (/^\d/.test(name) || /^e\d*$/.test(name)) continue;
    const labels = braces
      ? [...braces.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1] ?? '')
      : [];
    out.push({ metric: name, labels });
  }
  return out;
}

function dashboardExprs(): string[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { type: string; targets?: { expr: string }[] }[];
  };
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRules(): Rule[] {
  const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** name -> label names seen on it, from a Prometheus text scrape. */
function seriesOf(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? /.exec(line);
    if (!m?.[1]) continue;
    const labels = out.get(m[1]) ?? new Set<string>();
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1] ?? '');
    out.set(m[1], labels);
  }
  return out;
}

describe('selectorsOf', () => {
  it('finds metric names and matched labels, not functions, grouping labels or variables', () => {
    expect(
      selectorsOf(
        'histogram_quantile(0.99, sum by (le, op) (rate(parley_x_bucket{job=~"$job", op="offer"}[$__rate_interval]))) > 1',
      ),
    ).toEqual([{ metric: 'parley_x_bucket', labels: ['job', 'op'] }]);
    expect(selectorsOf('sum(a_total) / sum(b) > 0.85 and count(c == 0) == 0').map((s) => s.metric)).toEqual([
      'a_total',
      'b',
      'c',
    ]);
  });
});

describe('alert rules are well formed', () => {
  const rules = alertRules();
  it('every rule has a name, an expression, a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const r of rules) {
      expect(r.alert).toMatch(/^Parley[A-Za-z]+$/);
      expect(r.expr.trim()).not.toBe('');
      expect(['page', 'warn']).toContain(r.labels?.severity);
      expect(r.annotations?.summary).toBeTruthy();
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    expect(rules.every((r) => r.for === undefined || /^\d+[smh]$/.test(r.for))).toBe(true);
  });
});

describe('every metric the dashboard and alerts use is served by the real processes', () => {
  let stack: DevStack;
  const logs: string[] = [];
  const served = new Map<string, Map<string, Set<string>>>();

  beforeAll(async () => {
    stack = await startDevStack({
      httpPort: await freeTcpPort(),
      relayPort: await freeUdpPort(),
      icePort: await freeUdpPort(),
      output: (l) => logs.push(l),
      env: { PARLEY_LOG_LEVEL: 'debug' },
      // A loaded 2-core machine can take tens of seconds to start four processes.
      readyTimeoutMs: 60_000,
    });
    // Traffic, so histograms and labelled counters have series: one call, a 404, a refused DELETE.
    await runCall({ edgeUrl: stack.edgeUrl, token: stack.token, seconds: 1, setupTimeoutMs: 30_000 });
    await fetch(`${stack.edgeUrl}/no-such-page`);
    // And one request Node's parser refuses (answered 400 problem+json, counted apart).
    await new Promise<void>((resolve) => {
      const url = new URL(stack.edgeUrl);
      const sock = netConnect(Number(url.port), url.hostname, () => sock.end('NOT HTTP\r\n\r\n'));
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
      sock.resume();
    });
    await fetch(`${stack.edgeUrl}/v1/sessions/000000000000-x`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${stack.token}` },
    });
    // One log line inside a traced request that carried no trace context of its own.
    await fetch(`${stack.edgeUrl}/livez`);
    for (const name of ['edge', 'relay', 'transceiver'] as const) {
      const text = await (await fetch(stack.info[name].metrics as string)).text();
      served.set(name, seriesOf(text));
    }
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('dashboard and alert metrics exist, with the labels they match on', () => {
    const all = new Map<string, Set<string>>();
    for (const series of served.values())
      for (const [name, labels] of series) all.set(name, new Set([...(all.get(name) ?? []), ...labels]));
    const used = [...dashboardExprs(), ...alertRules().map((r) => r.expr)].flatMap(selectorsOf);
    expect(used.length).toBeGreaterThan(30);
    const missing = used
      .filter((s) => !FROM_PROMETHEUS.has(s.metric) && !all.has(s.metric))
      .map((s) => s.metric);
    expect([...new Set(missing)]).toEqual([]);
    const badLabels = used
      .filter((s) => all.has(s.metric))
      .flatMap((s) =>
        s.labels
          .filter((l) => !TARGET_LABELS.has(l) && !all.get(s.metric)?.has(l))
          .map((l) => `${s.metric}{${l}}`),
      );
    expect(badLabels).toEqual([]);
  });

  it('every process serves Node runtime metrics (event-loop delay, GC, heap)', () => {
    for (const [name, series] of served) {
      for (const metric of [
        'nodejs_eventloop_delay_p99',
        'nodejs_eventloop_utilization',
        'v8js_memory_heap_used',
      ])
        expect(series.has(metric), `${name} ${metric}`).toBe(true);
    }
    // GC histograms appear after the first collection; the transceiver has collected by now.
    expect(served.get('transceiver')?.has('v8js_gc_duration_bucket')).toBe(true);
  });

  it('the edge serves its own request, NATS and placement metrics', () => {
    const edge = served.get('edge');
    for (const metric of [
      'parley_edge_http_requests_total',
      'parley_edge_http_request_duration_seconds_bucket',
      'parley_edge_nats_request_duration_seconds_bucket',
      'parley_edge_placements_total',
      'parley_edge_http_client_errors_total',
    ])
      expect(edge?.has(metric), metric).toBe(true);
  });

  it('log lines inside a request span carry trace_id and span_id', () => {
    const lines = logs
      .filter((l) => l.startsWith('[edge] {'))
      .map((l) => JSON.parse(l.slice('[edge] '.length)) as Record<string, unknown>);
    const livez = lines.find((l) => l.msg === 'request' && l.path === '/livez');
    expect(livez?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(livez?.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(livez?.trace_id).not.toBe('0'.repeat(32));
  });
});
