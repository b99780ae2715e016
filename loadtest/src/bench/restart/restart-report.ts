import type { TargetRow } from '../targets.js';
import type { RestartBenchResult, RestartPath } from './restart-bench.js';

const n = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '–' : String(Math.round(v * 10 ** digits) / 10 ** digits);

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const LABEL: Record<RestartPath, string> = {
  restart: 'SIGKILL, new relay process',
  sibling: 'SIGKILL, sibling already on the port',
  planned: 'planned: handover to a successor (PARLEY_RELAY_REUSE_PORT=handover)',
};

/** The markdown section for `npm run bench -- --only restart`. */
export function restartSection(r: RestartBenchResult): string[] {
  const restart = r.paths.find((p) => p.path === 'restart');
  return [
    `## Relay restart mid-call: one werift call per run (${r.probesPerCall} probes 20 ms apart), relay disrupted after ${r.disruptAfterMs} ms; gap from the echo arrival times`,
    '',
    ...table(
      [
        'path',
        'runs',
        'media gap p50',
        'p95',
        'max',
        'first echo after ready p50 / p95',
        'lost per call p50 / max',
        'lost after recovery',
        'from flow cache',
        'failures',
      ],
      r.paths.map((p) => [
        LABEL[p.path],
        String(p.runs),
        `${n(p.gapMs.p50)} ms`,
        `${n(p.gapMs.p95)} ms`,
        `${n(p.gapMs.max)} ms`,
        `${n(p.recoveryMs.p50)} / ${n(p.recoveryMs.p95)} ms`,
        `${n(p.lostPerCall.p50)} / ${n(p.lostPerCall.max)}`,
        String(p.lostAfterRecovery),
        p.path === 'planned'
          ? '– (flow table handed over)'
          : `${p.recoveredFromCache}/${p.runs - p.failures.length}`,
        p.failures.length ? p.failures.join('; ') : 'none',
      ]),
    ),
    '',
    'Full stack (nats-server with JetStream, transceiver, relay with PARLEY_RELAY_REUSE_PORT=1, or =handover for the planned path, edge). "Ready": the new process listening (restart), the old one gone (sibling), or the successor having taken the port over (planned). The restart gap includes the new process starting; "from flow cache" counts runs whose new relay rebuilt the flow from the JetStream KV flow cache rather than from a consent check.' +
      (restart?.startupMs
        ? ` After a SIGKILL, the new relay process took ${n(restart.startupMs.p50)} ms (p50, p95 ${n(restart.startupMs.p95)} ms) from the kill to listening.`
        : '') +
      (restart?.startupPhasesMs && Object.keys(restart.startupPhasesMs).length > 0
        ? ` Its start-up timeline (p50, ms since the new process started; spawn: from the kill to the fork): ${Object.entries(
            restart.startupPhasesMs,
          )
            .map(([k, v]) => `${k} ${n(v)}`)
            .join(', ')}.`
        : ''),
    '',
  ];
}

/** Issue 11's relay restart targets. */
export function restartTargets(r: RestartBenchResult | undefined): TargetRow[] {
  const restart = r?.paths.find((p) => p.path === 'restart');
  const sibling = r?.paths.find((p) => p.path === 'sibling');
  const planned = r?.paths.find((p) => p.path === 'planned');
  const gapRow = (label: string, p: typeof restart): TargetRow =>
    p && Number.isFinite(p.gapMs.p95)
      ? {
          target: `Relay restart media gap p95 (${label})`,
          goal: '≤ 300 ms',
          measured: `${p.gapMs.p95} ms over ${p.runs - p.failures.length} runs${p.failures.length ? `, ${p.failures.length} failed` : ''}`,
          ratio: Math.round((p.gapMs.p95 / 300) * 100) / 100,
          met: p.gapMs.p95 <= 300 && p.failures.length === 0,
        }
      : {
          target: `Relay restart media gap p95 (${label})`,
          goal: '≤ 300 ms',
          measured: 'not run',
          ratio: null,
          met: null,
        };
  return [
    gapRow('SIGKILL + new process', restart),
    gapRow('SIGKILL, sibling takeover', sibling),
    planned
      ? {
          target: 'Planned relay restart: packets lost',
          goal: '0 packets',
          measured: `max ${planned.lostPerCall.max} per call over ${planned.runs - planned.failures.length} runs`,
          ratio: null,
          met: planned.lostPerCall.max === 0 && planned.failures.length === 0,
        }
      : {
          target: 'Planned relay restart: packets lost',
          goal: '0 packets',
          measured: 'not run',
          ratio: null,
          met: null,
        },
  ];
}
