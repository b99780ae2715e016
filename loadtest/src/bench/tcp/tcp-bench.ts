import { runCall } from '../../call/call-client.js';
import { percentile } from '../../call/stats.js';
import { failureReason, SETUP_STAGES, type SetupStage } from '../../load/load-summary.js';
import type { CpuPlan } from '../proc/cpu-pin.js';
import { startBenchStack } from '../stack/bench-stack.js';

export interface TcpBenchOptions {
  quick: boolean;
  cpus: CpuPlan;
  progress: (line: string) => void;
}

export type Transport = 'udp' | 'tcp';

export interface TransportResult {
  transport: Transport;
  calls: number;
  /** Setup stages, ms from the start of the call. */
  stages: Record<SetupStage, { p50: number; p95: number }>;
  /** Echo RTT over every probe of every call (rtp-echo: relay + transceiver, no pipeline). */
  rttMs: { p50: number; p95: number; p99: number };
  rttSamples: number;
  lostPackets: number;
  failures: Record<string, number>;
}

export interface TcpBenchResult {
  /** Seconds of 50 packets/s audio in each call. */
  secondsPerCall: number;
  udp: TransportResult;
  tcp: TransportResult;
  /** TCP / UDP, p50 and p95 of each setup stage. */
  ratio: Record<SetupStage, { p50: number; p95: number }>;
}

interface Sample {
  setupMs: Record<SetupStage, number>;
  rtts: number[];
  lost: number;
  transport: Transport;
}

/**
 * The ICE-TCP path against UDP through the same relay, same run: sequential
 * werift calls (`parley call`'s client) alternating UDP and `--tcp` (the
 * answer's UDP candidate dropped, so the call goes to the relay's TCP port
 * with RFC 4571 framing), each with a second of echoed audio.
 */
export async function benchTcp(o: TcpBenchOptions): Promise<TcpBenchResult> {
  const n = o.quick ? 10 : 20;
  const seconds = 1;
  const stack = await startBenchStack({
    capacity: 20,
    transceiverCpu: o.cpus.underTest,
    otherCpu: o.cpus.load[0],
    relayTcp: true,
  });
  const one = async (tcp: boolean): Promise<Sample | { failed: string }> => {
    const rtts: number[] = [];
    try {
      const r = await runCall({
        edgeUrl: stack.edgeUrl,
        token: stack.token,
        seconds,
        tcp,
        setupTimeoutMs: 15_000,
        onEcho: (ms) => rtts.push(ms),
      });
      const want: Transport = tcp ? 'tcp' : 'udp';
      if (r.transport !== want) return { failed: `went over ${r.transport}, not ${want}` };
      return { setupMs: r.setupMs, rtts, lost: r.packets.lost, transport: r.transport };
    } catch (err) {
      return { failed: failureReason(err) };
    }
  };
  try {
    // Warm both paths (JIT, certificates, the relay's TCP accept path).
    await one(false);
    await one(true);
    o.progress(
      `tcp: ${n} sequential calls each over UDP and ICE-TCP, alternating, ${seconds} s of audio each`,
    );
    const udp: Array<Sample | { failed: string }> = [];
    const tcp: Array<Sample | { failed: string }> = [];
    for (let i = 0; i < n; i++) {
      udp.push(await one(false));
      tcp.push(await one(true));
    }
    const u = summarize('udp', udp);
    const t = summarize('tcp', tcp);
    const ratio = Object.fromEntries(
      SETUP_STAGES.map((s) => [
        s,
        { p50: r2(t.stages[s].p50 / u.stages[s].p50), p95: r2(t.stages[s].p95 / u.stages[s].p95) },
      ]),
    ) as TcpBenchResult['ratio'];
    o.progress(
      `  first audio p50/p95: udp ${u.stages.firstAudio.p50}/${u.stages.firstAudio.p95} ms, ` +
        `tcp ${t.stages.firstAudio.p50}/${t.stages.firstAudio.p95} ms (${ratio.firstAudio.p50}× at p50); ` +
        `echo RTT p99 udp ${u.rttMs.p99} ms, tcp ${t.rttMs.p99} ms`,
    );
    return { secondsPerCall: seconds, udp: u, tcp: t, ratio };
  } finally {
    await stack.stop();
  }
}

function summarize(transport: Transport, outcomes: Array<Sample | { failed: string }>): TransportResult {
  const ok = outcomes.filter((x): x is Sample => !('failed' in x));
  const failures: Record<string, number> = {};
  for (const x of outcomes) if ('failed' in x) failures[x.failed] = (failures[x.failed] ?? 0) + 1;
  const rtts = ok.flatMap((s) => s.rtts);
  return {
    transport,
    calls: outcomes.length,
    stages: Object.fromEntries(
      SETUP_STAGES.map((s) => {
        const v = ok.map((x) => x.setupMs[s]);
        return [s, { p50: r2(percentile(v, 50)), p95: r2(percentile(v, 95)) }];
      }),
    ) as TransportResult['stages'],
    rttMs: { p50: r2(percentile(rtts, 50)), p95: r2(percentile(rtts, 95)), p99: r2(percentile(rtts, 99)) },
    rttSamples: rtts.length,
    lostPackets: ok.reduce((a, s) => a + s.lost, 0),
    failures,
  };
}

const r2 = (n: number) => (Number.isFinite(n) ? Math.round(n * 100) / 100 : Number.NaN);
