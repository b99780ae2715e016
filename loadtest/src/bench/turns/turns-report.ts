import type { ScoreSummary } from './score.js';
import type { TurnsBenchResult } from './turns-bench.js';

const n = (v: number | undefined, suffix = ''): string =>
  v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 1000) / 1000}${suffix}`;

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const cause = (s: ScoreSummary) =>
  Object.keys(s.falseBy).length
    ? ` (${Object.entries(s.falseBy)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`
    : '';

/** The markdown section for `npm run bench -- --only turns`. */
export function turnsSection(r: TurnsBenchResult): string[] {
  const c = r.corpus;
  const out = [
    `## Turn-taking: detectors on the labelled corpus (${c.totalMinutes} min: espeak-ng ${c.voices.length} voices × ${c.rates.length} rates, hesitation pauses ${c.pausesMs.join('/')} ms, white/babble/hum at ${c.snrs.join('/')} dB SNR, seed ${c.seed})`,
    '',
    `Endpointing: onset after ${r.params.startMs} ms of speech, each detector's default hangover (${r.detectors
      .filter((d) => d.params)
      .map((d) => `${d.name} ${d.params?.hangoverMs} ms`)
      .join(', ')}${r.detectors
      .filter((d) => d.params?.finalHangoverMs !== undefined)
      .map(
        (d) =>
          `; ${d.name}: ${d.params?.finalHangoverMs} ms where the prosodic cue says final (p ≥ ${d.params?.eotThreshold})`,
      )
      .join(
        '',
      )}); barge-in confirmed after ${r.params.confirmMs} ms of speech the detector is sure of (Silero p ≥ 0.99; shorter speech holds the agent, released after ${r.params.resumeMs} ms of silence). Frame truth: clean speech within 30 dB of its peak. Default: **${r.defaultVariant}**.`,
    '',
    ...table(
      [
        'detector',
        'SNR',
        'precision',
        'recall',
        'onset p50',
        'end of turn p50 / p95',
        'premature ends',
        'never ended',
        'false barge-ins / min',
        'false holds / min',
        'barge-in delay p50 / p95',
        'missed interruptions',
        'CPU per session',
      ],
      r.detectors.flatMap((d) =>
        d.available
          ? d.rows.map((row) => {
              const s = row.summary;
              return [
                d.name,
                row.condition,
                n(s.precision),
                n(s.recall),
                n(s.onsetP50Ms, ' ms'),
                `${n(s.endP50Ms)} / ${n(s.endP95Ms)} ms`,
                `${n(s.prematurePct)} % of ${s.turns}`,
                `${n(s.unendedPct)} %`,
                `${n(s.falseBargeInsPerMin)}${cause(s)}`,
                n(s.falseHoldsPerMin),
                `${n(s.bargeDelayP50Ms)} / ${n(s.bargeDelayP95Ms)} ms`,
                `${s.missedInterruptions} of ${s.interruptions}`,
                `${n(d.cpuPercentPerSession)} % of a core${d.modelWindowShare !== undefined ? ` (model on ${Math.round(d.modelWindowShare * 100)} % of windows)` : ''}`,
              ];
            })
          : [
              [
                d.name,
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                `unavailable: ${d.unavailable}`,
              ],
            ],
      ),
    ),
    '',
  ];
  for (const curve of r.curves) {
    out.push(`### Trade-offs at 10 dB (all noise kinds), ${curve.detector}`, '');
    if (curve.cue?.length)
      out.push(
        ...table(
          [
            'hangover',
            'final hangover',
            'cue threshold',
            'end of turn p50 / p95',
            'premature ends',
            'false barge-ins / min',
          ],
          curve.cue.map((p) => [
            `${p.hangoverMs} ms`,
            `${p.finalHangoverMs} ms`,
            String(p.threshold),
            `${n(p.summary.endP50Ms)} / ${n(p.summary.endP95Ms)} ms`,
            `${n(p.summary.prematurePct)} %`,
            n(p.summary.falseBargeInsPerMin),
          ]),
        ),
        '',
      );
    if (curve.hangoverMs.length)
      out.push(
        ...table(
          ['hangover', 'end of turn p50 / p95', 'premature ends', 'false barge-ins / min'],
          curve.hangoverMs.map((p) => [
            `${p.value} ms`,
            `${n(p.summary.endP50Ms)} / ${n(p.summary.endP95Ms)} ms`,
            `${n(p.summary.prematurePct)} %`,
            n(p.summary.falseBargeInsPerMin),
          ]),
        ),
        '',
      );
    out.push(
      ...table(
        [
          'barge-in confirmation',
          'false barge-ins / min',
          'barge-in delay p50 / p95',
          'missed interruptions',
        ],
        curve.confirmMs.map((p) => [
          `${p.value} ms`,
          `${n(p.summary.falseBargeInsPerMin)}${cause(p.summary)}`,
          `${n(p.summary.bargeDelayP50Ms)} / ${n(p.summary.bargeDelayP95Ms)} ms`,
          `${p.summary.missedInterruptions} of ${p.summary.interruptions}`,
        ]),
      ),
      '',
    );
  }
  return out;
}
