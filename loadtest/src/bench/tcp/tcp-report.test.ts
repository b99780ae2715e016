import { describe, expect, it } from 'vitest';
import type { TcpBenchResult, TransportResult } from './tcp-bench.js';
import { tcpSection, tcpTargets } from './tcp-report.js';

const stages = (firstAudio: number) => ({
  signaling: { p50: 9, p95: 19 },
  iceConnected: { p50: 31, p95: 42 },
  dtlsConnected: { p50: firstAudio - 2, p95: firstAudio + 15 },
  firstAudio: { p50: firstAudio, p95: firstAudio + 18 },
});
const transport = (t: 'udp' | 'tcp', firstAudio: number, p99: number): TransportResult => ({
  transport: t,
  calls: 10,
  stages: stages(firstAudio),
  rttMs: { p50: 1, p95: 3, p99 },
  rttSamples: 500,
  lostPackets: 0,
  failures: {},
});
const result = (tcpFirstAudio: number, tcpP99: number): TcpBenchResult => ({
  secondsPerCall: 1,
  udp: transport('udp', 140, 6),
  tcp: transport('tcp', tcpFirstAudio, tcpP99),
  ratio: Object.fromEntries(
    (['signaling', 'iceConnected', 'dtlsConnected', 'firstAudio'] as const).map((s) => [
      s,
      { p50: s === 'firstAudio' ? Math.round((tcpFirstAudio / 140) * 100) / 100 : 1, p95: 1 },
    ]),
  ) as TcpBenchResult['ratio'],
});

describe('TCP path bench report', () => {
  it('target rows: setup p50 within 1.2× of UDP, echo RTT p99 ≤ 20 ms', () => {
    const [setup, rtt] = tcpTargets(result(160, 12));
    expect(setup).toMatchObject({ goal: '≤ 1.2× UDP', ratio: 1.14, met: true });
    expect(rtt).toMatchObject({ goal: '≤ 20 ms', ratio: 0.6, met: true });
    const [slow, jittery] = tcpTargets(result(187, 29));
    expect(slow?.met).toBe(false);
    expect(jittery).toMatchObject({ ratio: 1.45, met: false });
  });

  it('rows say "not run" without the bench', () => {
    for (const t of tcpTargets(undefined)) expect(t).toMatchObject({ measured: 'not run', met: null });
  });

  it('the section lists each stage for both transports and the RTT rows', () => {
    const md = tcpSection(result(187, 29)).join('\n');
    expect(md).toContain('| first audio | 140 | 158 | 187 | 205 | 1.34× |');
    expect(md).toContain('| TCP | 1 ms | 3 ms | 29 ms | 500 | 0 | none |');
  });
});
