import { describe, expect, it } from 'vitest';
import { type RestartBenchResult, type RestartPathResult, startupPhases } from './restart-bench.js';
import { restartSection, restartTargets } from './restart-report.js';

const path = (p: RestartPathResult['path'], gapP95: number, lostMax: number): RestartPathResult => ({
  path: p,
  runs: 4,
  gapMs: { p50: gapP95 / 2, p95: gapP95, max: gapP95 },
  recoveryMs: { p50: 20, p95: 30 },
  lostPerCall: { p50: 0, max: lostMax },
  lostAfterRecovery: 0,
  recoveredFromCache: 4,
  failures: [],
  ...(p === 'restart' && {
    startupMs: { p50: 600, p95: 700 },
    startupPhasesMs: { spawn: 12, bootstrap: 21.4, telemetry: 140, listening: 190 },
  }),
});

const result: RestartBenchResult = {
  probesPerCall: 150,
  disruptAfterMs: 1_000,
  paths: [path('restart', 780, 38), path('sibling', 81, 3), path('planned', 42, 0)],
};

describe('relay restart bench report', () => {
  it('target rows: gap p95 against 300 ms per path, planned restart against 0 packets lost', () => {
    const [restart, sibling, planned] = restartTargets(result);
    expect(restart).toMatchObject({ goal: '≤ 300 ms', ratio: 2.6, met: false });
    expect(sibling).toMatchObject({ ratio: 0.27, met: true });
    expect(planned).toMatchObject({ goal: '0 packets', met: true });
    const lossy = restartTargets({ ...result, paths: [path('planned', 42, 2)] });
    expect(lossy.find((t) => t.goal === '0 packets')?.met).toBe(false);
  });

  it('a failed run fails the target even when the others were fast', () => {
    const failed = { ...path('sibling', 81, 3), failures: ['run 2: no echo after the disruption'] };
    const rows = restartTargets({ ...result, paths: [failed] });
    expect(rows.find((t) => t.target.includes('sibling'))?.met).toBe(false);
  });

  it('rows say "not run" without the bench', () => {
    for (const t of restartTargets(undefined)) expect(t).toMatchObject({ measured: 'not run', met: null });
  });

  it('the section has one table row per path and the new process start-up time', () => {
    const md = restartSection(result).join('\n');
    expect(md).toContain('| SIGKILL, new relay process | 4 | 390 ms | 780 ms |');
    expect(md).toContain('took 600 ms (p50, p95 700 ms) from the kill to listening');
    expect(md).toContain(
      'timeline (p50, ms since the new process started; spawn: from the kill to the fork): spawn 12, bootstrap 21, telemetry 140, listening 190.',
    );
  });

  it("reads a relay's start-up phases from its log line, and nothing from other lines", () => {
    const line = `[relay] {"level":30,"msg":"relay start-up phases","ms":{"bootstrap":21.4,"listening":190.2,"x":"y"}}`;
    expect(startupPhases(line)).toEqual({ bootstrap: 21.4, listening: 190.2 });
    expect(startupPhases('[relay] {"level":30,"msg":"relay listening"}')).toBeUndefined();
    expect(startupPhases('[relay] relay start-up phases {not json')).toBeUndefined();
  });
});
