import type { CapacityBenchResult } from './capacity/capacity-bench.js';
import { describeMachine, type MachineInfo } from './machine.js';
import type { RelayBenchResult } from './relay/relay-bench.js';
import type { RestartBenchResult } from './restart/restart-bench.js';
import { restartSection } from './restart/restart-report.js';
import type { SequentialResult, SetupBenchResult } from './setup/setup-bench.js';
import type { SignalingBenchResult } from './signaling/signaling-bench.js';
import type { TargetRow } from './targets.js';
import type { TcpBenchResult } from './tcp/tcp-bench.js';
import { tcpSection } from './tcp/tcp-report.js';
import type { TurnsBenchResult } from './turns/turns-bench.js';
import { turnsSection } from './turns/turns-report.js';

export interface BenchReport {
  schema: 'parley-bench/1';
  mode: 'quick' | 'full';
  command: string;
  startedAt: string;
  elapsedSeconds: number;
  git: { commit: string; dirty: boolean };
  machine: MachineInfo;
  relay?: RelayBenchResult;
  transceiver?: CapacityBenchResult;
  setup?: SetupBenchResult;
  signaling?: SignalingBenchResult;
  turns?: TurnsBenchResult;
  tcp?: TcpBenchResult;
  restart?: RestartBenchResult;
  /** Benches that failed to run, with why. */
  errors: Record<string, string>;
  targets: TargetRow[];
}

const n = (v: number | undefined, digits = 2): string =>
  v === undefined || !Number.isFinite(v) ? '–' : String(Math.round(v * 10 ** digits) / 10 ** digits);
const kpps = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(v));
const pct = (share: number | undefined): string =>
  share === undefined || !Number.isFinite(share) ? '–' : `${Math.round(share * 100)} %`;

/** `opus libopus, io native, …`; older JSON has no engines. */
const formatEngines = (e: Record<string, string> | undefined): string =>
  e && Object.keys(e).length > 0
    ? Object.entries(e)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : 'not reported';

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

function relaySection(r: RelayBenchResult): string[] {
  const label = {
    direct: 'direct (the load harness alone)',
    parley: 'Parley relay, native I/O (recvmmsg/sendmmsg)',
    'parley-dgram': 'Parley relay, node:dgram I/O',
    coturn: 'coturn, TURN ChannelData',
  };
  const out = [
    `## Relay forwarding: ${r.payloadBytes}-byte packets, ${r.flows} flows, process under test pinned to one core`,
    '',
    ...table(
      [
        'path',
        'max forwarded, < 1 % loss',
        'CPU per packet',
        ...r.plan.fixedRates.map((x) => `one-way p50 / p99 at ${kpps(x)} pps`),
        'search stopped by',
      ],
      r.paths.map((p) => [
        label[p.path],
        `${kpps(p.maxForwardedPps)} pps${p.roundMaxPps.length > 1 ? ` (median of ${p.roundMaxPps.length})` : ''}`,
        p.cpuUsPerPacket !== undefined ? `${n(p.cpuUsPerPacket, 1)} µs` : '–',
        ...r.plan.fixedRates.map((rate) => {
          const s = p.fixed.find((f) => f.ratePps === rate);
          return s
            ? `${n(s.latencyMs.p50, 3)} / ${n(s.latencyMs.p99, 3)} ms${s.lossPercent >= 1 ? ` (loss ${n(s.lossPercent, 1)} %)` : ''}`
            : '–';
        }),
        p.limitedBy === 'target'
          ? p.path === 'direct'
            ? '–'
            : 'the process under test'
          : p.limitedBy === 'rate cap'
            ? 'rate cap'
            : `load harness (${p.limitedBy})`,
      ]),
    ),
    '',
  ];
  if (r.relayOverCoturn !== undefined)
    out.push(
      `Parley relay / coturn: **${r.relayOverCoturn}×** packets/s` +
        (r.cpuPerPacketRelayOverCoturn !== undefined
          ? `, ${r.cpuPerPacketRelayOverCoturn}× CPU per packet`
          : '') +
        '.',
    );
  else out.push(`coturn: ${'skipped' in r.coturn ? r.coturn.skipped : 'no result'}.`);
  if (r.addedLatencyMs.length)
    out.push(
      `Added one-way latency over the direct path: ${r.addedLatencyMs
        .map(
          (a) =>
            `${a.path} at ${kpps(a.ratePps)} pps p50 ${a.p50 >= 0 ? '+' : ''}${n(a.p50, 3)} ms, p99 ${a.p99 >= 0 ? '+' : ''}${n(a.p99, 3)} ms`,
        )
        .join('; ')}.`,
    );
  const hops = r.addedLatencyMs.filter((a) => a.hopP99 !== undefined);
  if (hops.length)
    out.push(
      `The relay hop itself, per packet on the wire (loopback capture: generator's datagram in to the relay's send toward the sink): ${hops
        .map(
          (a) =>
            `${a.path} at ${kpps(a.ratePps)} pps p50 ${n(a.hopP50 ?? 0, 3)} ms, p99 ${n(a.hopP99 ?? 0, 3)} ms`,
        )
        .join('; ')}.`,
    );
  else if (r.hopCaptureSkipped) out.push(`Relay hop capture not run: ${r.hopCaptureSkipped}.`);
  if (r.awakeCore)
    out.push(
      'skipped' in r.awakeCore
        ? `--awake-core was asked for but not applied: ${r.awakeCore.skipped}.`
        : `Run with --awake-core: cpu ${r.awakeCore.cpu} was kept out of idle by a SCHED_IDLE busy loop (its "core busy" reads 100 %), as on a host whose idle cores do not halt.`,
    );
  return [...out, ''];
}

function capacitySection(c: CapacityBenchResult): string[] {
  return [
    `## Transceiver capacity: \`${c.agent}\` sessions through the relay, ${c.packetRate} packets/s each way, ${c.payloadBytes}-byte payloads, transceiver ${c.transceiverPinned ? 'pinned to one core' : 'not pinned'}`,
    '',
    ...table(
      [
        'sessions',
        'echo RTT p50 / p99 (hold)',
        'lost',
        'failed',
        'transceiver CPU',
        'its core busy',
        'CPU per session',
        'RSS per session',
        'generator CPU',
        'generator loop delay p99',
        'pass',
        'bare werift: RTT p50 / p99, CPU',
      ],
      c.steps.map((s) => [
        String(s.sessions),
        `${n(s.holdRttMs.p50)} / ${n(s.holdRttMs.p99)} ms`,
        String(s.lostPackets),
        String(s.failed),
        pct(s.transceiverCpuShare),
        pct(s.transceiverCoreBusyShare),
        `${n(s.cpuPercentPerSession, 3)} % of a core`,
        `${n(s.rssKiBPerSession, 0)} KiB`,
        pct(s.generatorCpuShare),
        `${n(s.generatorLoopDelayP99Ms, 1)} ms`,
        s.pass ? 'yes' : 'no',
        s.direct
          ? `${n(s.direct.holdRttMs.p50)} / ${n(s.direct.holdRttMs.p99)} ms, ${pct(s.direct.cpuShare)}${s.direct.lostPackets ? `, lost ${s.direct.lostPackets}` : ''} (${s.direct.pass ? 'pass' : 'fail'})`
          : '–',
      ]),
    ),
    '',
    `Largest passing count (RTT p99 ≤ 20 ms, no loss, no failures): **${c.maxSessions}** (bare werift on the same core, same load: ${c.directMaxSessions}); the search stopped at ${c.limitedBy === 'baseline' ? 'a count bare werift fails too (the limit is werift and the load harness, not Parley)' : `the ${c.limitedBy}`}. Idle transceiver: ${pct(c.idle.cpuShare)} CPU, ${c.idle.rssMiB} MiB RSS. Engines: ${formatEngines(c.engines)}. RTT is measured over a ${c.holdSeconds} s hold with every session up; "its core busy" above the transceiver's own CPU is other work on that core (softirq, other processes).`,
    '',
  ];
}

function sequentialTable(q: SequentialResult): string[] {
  const stages = [
    ['signaling', 'signaling'],
    ['iceConnected', 'ICE'],
    ['dtlsConnected', 'DTLS'],
    ['firstAudio', 'first audio'],
  ] as const;
  return table(
    [
      'stage',
      'full stack p50',
      'full stack p95',
      'direct werift p50',
      'direct werift p95',
      'ratio p50',
      'ratio p95',
    ],
    stages.map(([k, label]) => [
      label,
      n(q.full.stages[k].p50, 1),
      n(q.full.stages[k].p95, 1),
      n(q.direct.stages[k].p50, 1),
      n(q.direct.stages[k].p95, 1),
      `${n(q.ratio[k].p50)}×`,
      `${n(q.ratio[k].p95)}×`,
    ]),
  );
}

const fails = (f: Record<string, number>) => (Object.keys(f).length ? JSON.stringify(f) : 'none');

function setupSection(s: SetupBenchResult): string[] {
  const q = s.sequential;
  const out = [
    `## Setup latency: ${q.calls} sequential calls each way from the werift client (ms from the start of the call)`,
    '',
    ...sequentialTable(q),
    '',
    `Full stack = edge (JWT) + NATS + transceiver + relay; direct = the same client against a bare werift peer configured like a transceiver session. As DTLS client, werift waits a fixed 100 ms before its first ClientHello, so every werift-client setup carries it. Transceiver CPU per call (setup, 5 echoed packets, close): ${n(q.transceiverCpuMsPerCall, 1)} ms. Failures: full ${fails(q.full.failures)}, direct ${fails(q.direct.failures)}.`,
    '',
  ];
  const b = s.browser;
  if ('skipped' in b) out.push(`Chromium client: skipped (${b.skipped}).`, '');
  else
    out.push(
      `### The same from headless Chromium (${b.calls} calls each way)`,
      '',
      ...sequentialTable(b),
      '',
      `Failures: full ${fails(b.full.failures)}, direct ${fails(b.direct.failures)}. Transceiver CPU per call: ${n(b.transceiverCpuMsPerCall, 1)} ms.`,
      '',
    );
  out.push(
    ...table(
      [
        'burst of simultaneous calls',
        'setup admission',
        'completion p50',
        'p95',
        'max',
        'DTLS p95',
        'transceiver CPU',
        'failures',
      ],
      s.bursts.map((x) => [
        String(x.calls),
        x.admission,
        `${n(x.completionMs.p50, 0)} ms`,
        `${n(x.completionMs.p95, 0)} ms`,
        `${n(x.completionMs.max, 0)} ms`,
        `${n(x.stages.dtlsConnected.p95, 0)} ms`,
        `${n(x.transceiverCpuMs, 0)} ms`,
        fails(x.failures),
      ]),
    ),
    '',
  );
  return out;
}

function signalingSection(s: SignalingBenchResult): string[] {
  return [
    `## Signaling: session creations against an instant transceiver (edge ${s.edgePinned ? 'pinned to one core' : 'not pinned'}, JWT auth, ${s.offerBytes}-byte werift offer)`,
    '',
    ...table(
      [
        'concurrency',
        'creates/s',
        'latency p50 / p99',
        'edge CPU',
        'edge CPU per create',
        'client CPU',
        'errors',
      ],
      s.levels.map((l) => [
        String(l.concurrency),
        String(l.createsPerSecond),
        `${n(l.latencyMs.p50)} / ${n(l.latencyMs.p99)} ms`,
        pct(l.edgeCpuShare),
        `${n(l.edgeCpuUsPerCreate, 0)} µs`,
        pct(l.clientCpuShare),
        Object.keys(l.errors).length ? JSON.stringify(l.errors) : 'none',
      ]),
    ),
    '',
    `Sustained: **${s.maxCreatesPerSecond} creations/s** (limited by the ${s.limitedBy}).`,
    '',
  ];
}

/** The markdown `npm run bench` prints. */
export function renderReport(r: BenchReport, jsonPath?: string): string {
  const out = [
    `# Parley benchmarks (${r.mode}), ${r.startedAt}`,
    '',
    `Machine: ${describeMachine(r.machine)}.`,
    `Command: \`${r.command}\` (${Math.round(r.elapsedSeconds)} s, commit ${r.git.commit}${r.git.dirty ? ' + local changes' : ''})${jsonPath ? `; JSON: ${jsonPath}` : ''}.`,
    '',
  ];
  if (r.relay) out.push(...relaySection(r.relay));
  if (r.transceiver) out.push(...capacitySection(r.transceiver));
  if (r.setup) out.push(...setupSection(r.setup));
  if (r.signaling) out.push(...signalingSection(r.signaling));
  if (r.turns) out.push(...turnsSection(r.turns));
  if (r.tcp) out.push(...tcpSection(r.tcp));
  if (r.restart) out.push(...restartSection(r.restart));
  for (const [bench, err] of Object.entries(r.errors)) out.push(`**${bench} bench failed:** ${err}`, '');
  out.push(
    '## Targets',
    '',
    ...table(
      ['target', 'goal', 'measured', 'ratio', 'met'],
      r.targets.map((t) => [
        t.target,
        t.goal,
        t.measured,
        t.ratio === null ? '–' : `${t.ratio}`,
        t.met === null ? '–' : t.met ? 'yes' : 'no',
      ]),
    ),
    '',
  );
  return out.join('\n');
}
