import type { TargetRow } from '../targets.js';
import type { TcpBenchResult } from './tcp-bench.js';

const n = (v: number | undefined, digits = 1): string =>
  v === undefined || !Number.isFinite(v) ? '–' : String(Math.round(v * 10 ** digits) / 10 ** digits);

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const fails = (f: Record<string, number>) => (Object.keys(f).length ? JSON.stringify(f) : 'none');

/** The markdown section for `npm run bench -- --only tcp`. */
export function tcpSection(r: TcpBenchResult): string[] {
  const stages = [
    ['signaling', 'signaling'],
    ['iceConnected', 'ICE'],
    ['dtlsConnected', 'DTLS'],
    ['firstAudio', 'first audio'],
  ] as const;
  return [
    `## ICE-TCP vs UDP through the same relay: ${r.udp.calls} sequential werift calls each, alternating, ${r.secondsPerCall} s of echoed audio each (ms)`,
    '',
    ...table(
      ['stage', 'UDP p50', 'UDP p95', 'TCP p50', 'TCP p95', 'TCP / UDP p50', 'TCP / UDP p95'],
      stages.map(([k, label]) => [
        label,
        n(r.udp.stages[k].p50),
        n(r.udp.stages[k].p95),
        n(r.tcp.stages[k].p50),
        n(r.tcp.stages[k].p95),
        `${n(r.ratio[k].p50, 2)}×`,
        `${n(r.ratio[k].p95, 2)}×`,
      ]),
    ),
    '',
    ...table(
      ['transport', 'echo RTT p50', 'p95', 'p99', 'samples', 'lost', 'failures'],
      [r.udp, r.tcp].map((t) => [
        t.transport.toUpperCase(),
        `${n(t.rttMs.p50, 2)} ms`,
        `${n(t.rttMs.p95, 2)} ms`,
        `${n(t.rttMs.p99, 2)} ms`,
        String(t.rttSamples),
        String(t.lostPackets),
        fails(t.failures),
      ]),
    ),
    '',
    'TCP calls are `parley call --tcp`: the answer’s UDP candidate is dropped and werift connects to the relay’s ICE-TCP port (RFC 6544 active, RFC 4571 framing); the relay forwards to the transceiver over UDP. UDP calls carry media on Parley’s SRTP path, TCP calls on werift’s.',
    '',
  ];
}

/** Issue 11's TCP targets. */
export function tcpTargets(r: TcpBenchResult | undefined): TargetRow[] {
  if (!r)
    return [
      {
        target: 'TCP 443 path: setup p50 vs UDP, same run (first audio)',
        goal: '≤ 1.2× UDP',
        measured: 'not run',
        ratio: null,
        met: null,
      },
      { target: 'TCP 443 path: echo RTT p99', goal: '≤ 20 ms', measured: 'not run', ratio: null, met: null },
    ];
  const ratio = r.ratio.firstAudio.p50;
  const p99 = r.tcp.rttMs.p99;
  return [
    {
      target: 'TCP 443 path: setup p50 vs UDP, same run (first audio)',
      goal: '≤ 1.2× UDP',
      measured: `${r.tcp.stages.firstAudio.p50} vs ${r.udp.stages.firstAudio.p50} ms`,
      ratio: Number.isFinite(ratio) ? ratio : null,
      met: Number.isFinite(ratio) ? ratio <= 1.2 : null,
    },
    {
      target: 'TCP 443 path: echo RTT p99',
      goal: '≤ 20 ms',
      measured: `${p99} ms (${r.tcp.rttSamples} echoes)`,
      ratio: Number.isFinite(p99) ? Math.round((p99 / 20) * 100) / 100 : null,
      met: Number.isFinite(p99) ? p99 <= 20 : null,
    },
  ];
}
