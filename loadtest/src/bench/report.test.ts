import { describe, expect, it } from 'vitest';
import type { CapacityBenchResult } from './capacity/capacity-bench.js';
import type { RelayBenchResult } from './relay/relay-bench.js';
import { type BenchReport, renderReport } from './report.js';
import type { SetupBenchResult } from './setup/setup-bench.js';
import { evaluateTargets } from './targets.js';

const stage = (p50: number, p95: number) => ({ p50, p95 });
const stages = (f: number) => ({
  signaling: stage(10 * f, 20 * f),
  iceConnected: stage(30 * f, 40 * f),
  dtlsConnected: stage(90 * f, 120 * f),
  firstAudio: stage(95 * f, 130 * f),
});

const setup: SetupBenchResult = {
  transceiverPinned: true,
  sequential: {
    client: 'werift',
    calls: 20,
    full: { stages: stages(1.05), failures: {} },
    direct: { stages: stages(1), failures: {} },
    ratio: Object.fromEntries(
      Object.keys(stages(1)).map((k) => [k, { p50: 1.05, p95: 1.05 }]),
    ) as SetupBenchResult['sequential']['ratio'],
    transceiverCpuMsPerCall: 18,
  },
  browser: { client: 'chromium', skipped: 'Chromium not found at /usr/bin/chromium' },
  bursts: [
    {
      admission: 'on',
      calls: 50,
      completionMs: { p50: 400, p95: 600, max: 650 },
      stages: stages(3),
      failures: {},
      transceiverCpuMs: 700,
    },
    {
      admission: 'off',
      calls: 50,
      completionMs: { p50: 900, p95: 9000, max: 10_000 },
      stages: stages(9),
      failures: { dtls: 2 },
      transceiverCpuMs: 900,
    },
  ],
};

const path = (name: 'direct' | 'parley' | 'coturn', max: number, us?: number) => ({
  path: name,
  pinned: name !== 'direct',
  fixed: [],
  steps: [],
  roundMaxPps: [max],
  maxForwardedPps: max,
  ...(us !== undefined && { cpuUsPerPacket: us }),
  limitedBy: 'target' as const,
});

const relay: RelayBenchResult = {
  flows: 200,
  payloadBytes: 200,
  plan: {
    fixedRates: [10_000, 50_000],
    fixedMs: 1,
    startRate: 1,
    growth: 2,
    maxRate: 2,
    stepMs: 1,
    refine: 0,
  },
  rounds: 1,
  paths: [path('direct', 100_000), path('parley', 80_000, 10), path('coturn', 100_000, 6)],
  coturn: { version: '4.6.1' },
  relayOverCoturn: 0.8,
  cpuPerPacketRelayOverCoturn: 1.667,
  addedLatencyMs: [{ path: 'parley', ratePps: 10_000, p50: 0.1, p99: 1.5 }],
};

const transceiver: CapacityBenchResult = {
  packetRate: 50,
  payloadBytes: 120,
  holdSeconds: 3,
  transceiverPinned: true,
  engines: { io: 'native', srtpGcm: 'openssl', opus: 'wasm' },
  agent: 'default',
  idle: { cpuShare: 0.01, rssMiB: 100 },
  steps: [],
  maxSessions: 40,
  directMaxSessions: 40,
  limitedBy: 'transceiver',
};

describe('targets', () => {
  it('gives each target its measured figure and ratio, and whether it is met', () => {
    const all = evaluateTargets({ relay, transceiver, setup });
    // The sections that did not run (tcp, restart) still list their targets, as not run.
    const notRun = all.filter((r) => r.measured === 'not run');
    expect(notRun.map((r) => r.target).join('\n')).toMatch(/TCP 443[\s\S]*restart/);
    expect(notRun.every((r) => r.ratio === null && r.met === null)).toBe(true);
    const rows = all.filter((r) => r.measured !== 'not run');
    expect(rows.map((r) => [r.ratio, r.met])).toEqual([
      [0.8, false],
      // CPU per packet 10 vs 6 µs; 1.5 ms added at 10k packets/s against a 0.1 ms goal.
      [1.67, false],
      [15, false],
      [0.08, false],
      [1, true],
      [0.68, true],
      [1.05, true],
    ]);
    expect(rows[1]?.measured).toBe('10 vs 6 µs');
    expect(rows[2]?.measured).toBe('1.5 ms');
    expect(rows[4]?.target).toContain('werift client');
    // With a Chromium comparison too, its rows come first: browsers are the clients that matter.
    const withBrowser = evaluateTargets({
      setup: { ...setup, browser: { ...setup.sequential, client: 'chromium' } },
    });
    expect(withBrowser.map((r) => r.target).filter((t) => t.includes('Chromium'))).toHaveLength(3);
    expect(withBrowser.find((r) => r.target.startsWith('Setup'))?.target).toContain('Chromium client');
    expect(rows[0]?.measured).toBe('80000 vs 100000 pps; CPU per packet 10 vs 6 µs');
    expect(rows[4]?.measured).toBe('99.75 ms');
  });

  it("names the relay hop's p99 and coturn's beside the added latency, and meets the goal at ≤ 0.1 ms", () => {
    const [, cpu, latency] = evaluateTargets({
      relay: {
        ...relay,
        paths: [relay.paths[0], path('parley', 80_000, 5), relay.paths[2]] as RelayBenchResult['paths'],
        addedLatencyMs: [
          { path: 'parley', ratePps: 10_000, p50: 0.02, p99: 0.08, hopP50: 0.04, hopP99: 0.4 },
          { path: 'coturn', ratePps: 10_000, p50: 0.03, p99: 0.3, hopP50: 0.05, hopP99: 1.2 },
          { path: 'parley', ratePps: 50_000, p50: 0.1, p99: 2 },
        ],
      },
    });
    expect(cpu).toMatchObject({ measured: '5 vs 6 µs', ratio: 0.83, met: true });
    // A relay path far under the direct one: the direct path's tail was noise, so no verdict.
    const [, , noisy] = evaluateTargets({
      relay: { ...relay, addedLatencyMs: [{ path: 'parley', ratePps: 10_000, p50: 0.04, p99: -2.2 }] },
    });
    expect(noisy).toMatchObject({ ratio: null, met: null });
    expect(noisy?.measured).toContain('inconclusive');
    expect(latency).toMatchObject({
      measured: '0.08 ms; relay hop p99 0.4 ms (coturn 1.2 ms)',
      ratio: 0.8,
      met: true,
    });
  });

  it('treats a path the load harness stopped as a lower bound, and both stopped as inconclusive', () => {
    const harness = { limitedBy: 'generator' as const };
    const both = evaluateTargets({
      relay: {
        ...relay,
        paths: [
          relay.paths[0],
          { ...relay.paths[1], ...harness },
          { ...relay.paths[2], ...harness },
        ] as RelayBenchResult['paths'],
      },
    })[0];
    expect(both?.met).toBeNull();
    expect(both?.measured).toContain('inconclusive');
    // The relay stopped by the harness at 1.2x coturn's real limit: at least 1.2x, so met.
    const relayBound = evaluateTargets({
      relay: {
        ...relay,
        paths: [
          relay.paths[0],
          { ...relay.paths[1], maxForwardedPps: 120_000, ...harness },
          relay.paths[2],
        ] as RelayBenchResult['paths'],
      },
    })[0];
    expect(relayBound).toMatchObject({ ratio: 1.2, met: true });
    expect(relayBound?.measured).toMatch(/^≥ 120000 vs 100000 pps/);
    // coturn stopped by the harness above the relay's real limit: the relay is behind whatever coturn could do.
    const turnBound = evaluateTargets({
      relay: {
        ...relay,
        paths: [
          relay.paths[0],
          relay.paths[1],
          { ...relay.paths[2], ...harness },
        ] as RelayBenchResult['paths'],
      },
    })[0];
    expect(turnBound).toMatchObject({ ratio: 0.8, met: false });
  });

  it('says "not run" with no ratio for benches that did not run, and why coturn is missing', () => {
    const rows = evaluateTargets({
      relay: {
        ...relay,
        paths: relay.paths.slice(0, 2),
        coturn: { skipped: 'coturn (turnserver) is not installed' },
      },
    });
    expect(rows[0]?.measured).toContain('not installed');
    // No coturn, no CPU comparison; the added latency is the relay's own against the direct path.
    expect(rows[1]).toMatchObject({ ratio: null, met: null });
    expect(rows[1]?.measured).toContain('not installed');
    expect(rows[2]?.measured).toBe('1.5 ms');
    expect(rows.slice(3).every((r) => r.measured === 'not run' && r.ratio === null && r.met === null)).toBe(
      true,
    );
  });
});

describe('renderReport', () => {
  it('prints the machine, the command and a table per bench that ran', () => {
    const report: BenchReport = {
      schema: 'parley-bench/1',
      mode: 'quick',
      command: 'npm run bench -- --quick',
      startedAt: '2026-01-01T00:00:00.000Z',
      elapsedSeconds: 95,
      git: { commit: 'abc1234', dirty: false },
      machine: {
        cores: 2,
        cpuModel: 'AMD EPYC',
        node: 'v20.20.2',
        kernel: '6.1',
        memoryGiB: 8,
        loadAverage1m: 0.5,
        pinning: true,
      },
      relay,
      setup,
      errors: { signaling: 'edge not healthy' },
      targets: evaluateTargets({ relay, setup }),
    };
    const md = renderReport(report, 'results/x.json');
    expect(md).toContain('2 cores × AMD EPYC, Node v20.20.2');
    expect(md).toContain('`npm run bench -- --quick` (95 s, commit abc1234)');
    expect(md).toContain('| Parley relay, native I/O (recvmmsg/sendmmsg) | 80.0k pps | 10 µs |');
    expect(md).toContain('Parley relay / coturn: **0.8×** packets/s, 1.667× CPU per packet.');
    expect(md).toMatch(/\| first audio \| 99\.8 \| 136\.5 \| 95 \| 130 \| 1\.05× \| 1\.05× \|/);
    expect(md).toContain('| 50 | off | 900 ms | 9000 ms | 10000 ms |');
    expect(md).toContain('Chromium client: skipped (Chromium not found at /usr/bin/chromium).');
    expect(md).toContain('**signaling bench failed:** edge not healthy');
    expect(md).not.toContain('## Transceiver capacity');
    expect(md).toMatch(/\| Transceiver: .* \| 500 sessions \| not run \| – \| – \|/);
  });

  it('names the engines the transceiver measured on, and says when a run did not report them', () => {
    const base = {
      schema: 'parley-bench/1',
      mode: 'quick',
      command: 'npm run bench -- --only transceiver',
      startedAt: '2026-01-01T00:00:00.000Z',
      elapsedSeconds: 10,
      git: { commit: 'abc1234', dirty: false },
      machine: {
        cores: 2,
        cpuModel: 'AMD EPYC',
        node: 'v24.0.0',
        kernel: '6.1',
        memoryGiB: 8,
        loadAverage1m: 0.5,
        pinning: true,
      },
      errors: {},
      targets: [],
    } satisfies Omit<BenchReport, 'transceiver'>;
    const md = renderReport({ ...base, transceiver });
    expect(md).toContain('Engines: io native, srtpGcm openssl, opus wasm.');
    const old = renderReport({ ...base, transceiver: { ...transceiver, engines: {} } });
    expect(old).toContain('Engines: not reported.');
  });
});
