import type { LoadProgress } from './load-runner.js';
import type { LoadSummary, SetupStage } from './load-summary.js';

const STAGE_LABELS: Record<SetupStage, string> = {
  signaling: 'signaling',
  iceConnected: 'ice',
  dtlsConnected: 'dtls',
  firstAudio: 'first audio',
};

const num = (n: number): string => (Number.isFinite(n) ? String(n) : '-');

/** One progress line, e.g. `12.0 s  up 40/100  done 10  failed 0  rtt 1.9 ms`. */
export function formatProgress(p: LoadProgress): string {
  return (
    `${(p.elapsedMs / 1000).toFixed(1)} s  started ${p.started}/${p.target}  up ${p.up}  ` +
    `done ${p.completed}  failed ${p.failed}  rtt ${Number.isFinite(p.rttMs) ? `${p.rttMs.toFixed(1)} ms` : '-'}`
  );
}

/** The human summary `parley loadtest` prints at the end. */
export function formatSummary(s: LoadSummary): string {
  const lines: string[] = [];
  lines.push(
    `sessions: ${s.sessions.started} started, ${s.sessions.completed} completed, ${s.sessions.failed} failed ` +
      `in ${(s.elapsedMs / 1000).toFixed(1)} s`,
  );
  lines.push('setup (ms from start)    p50       p95       p99');
  for (const [stage, label] of Object.entries(STAGE_LABELS) as [SetupStage, string][]) {
    const p = s.setupMs[stage];
    lines.push(
      `  ${label.padEnd(20)}${num(p.p50).padStart(8)}  ${num(p.p95).padStart(8)}  ${num(p.p99).padStart(8)}`,
    );
  }
  lines.push(
    `echo rtt (ms): p50 ${num(s.rttMs.p50)}  p95 ${num(s.rttMs.p95)}  p99 ${num(s.rttMs.p99)}  max ${num(s.rttMs.max)}` +
      `  (${s.rttMs.samples} echoes)`,
  );
  lines.push(`jitter (ms): p50 ${num(s.jitterMs.p50)}  max ${num(s.jitterMs.max)}`);
  lines.push(
    `packets: sent ${s.packets.sent}  received ${s.packets.received}  lost ${s.packets.lost} (${s.packets.lossPercent} %)`,
  );
  const reasons = Object.entries(s.failures).sort((a, b) => b[1] - a[1]);
  if (reasons.length === 0) lines.push('failures: none');
  else {
    lines.push('failures:');
    for (const [reason, n] of reasons) {
      lines.push(`  ${reason}: ${n}  (${s.failureExamples[reason] ?? ''})`);
    }
  }
  return `${lines.join('\n')}\n`;
}
