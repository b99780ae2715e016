import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityInputs, Measured } from './capacity-model.js';

interface Step {
  sessions: number;
  pass?: boolean;
  cpuPercentPerSession?: number;
}
interface BenchFile {
  transceiver?: {
    agent?: string;
    maxSessions?: number;
    packetRate?: number;
    payloadBytes?: number;
    steps?: Step[];
  };
  setup?: { sequential?: { transceiverCpuMsPerCall?: number } };
}

export class CapacityInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CapacityInputError';
  }
}

/**
 * The newest measured figure for each input, searching `results/` newest
 * first (bench-<time>[-quick].json). Relay and signaling CPU are not in any
 * results file yet: those two come from the README's last full run, and the
 * source says so.
 */
export function readCapacityInputs(resultsDir: string): CapacityInputs {
  const files = readdirSync(resultsDir)
    .filter((f) => /^bench-.*\.json$/.test(f))
    .sort()
    .reverse();
  const load = (f: string) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as BenchFile;
  const find = <T>(pick: (b: BenchFile, file: string) => T | undefined): T | undefined => {
    for (const f of files) {
      const v = pick(load(f), f);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const transport = find((b, f) => {
    const t = b.transceiver;
    if (!t || (t.agent ?? 'rtp-echo') !== 'rtp-echo' || !t.maxSessions) return undefined;
    const step = t.steps?.find((s) => s.sessions === t.maxSessions && s.pass);
    if (step?.cpuPercentPerSession === undefined) return undefined;
    return {
      share: {
        value: step.cpuPercentPerSession / 100,
        source: `results/${f} transceiver.steps[sessions=${step.sessions}].cpuPercentPerSession (rtp-echo)`,
      },
      per: {
        value: t.maxSessions,
        source: `results/${f} transceiver.maxSessions (one core, RTT p99 ≤ 20 ms, no loss)`,
      },
      rate: { value: t.packetRate ?? 50, source: `results/${f} transceiver.packetRate` },
      payload: { value: t.payloadBytes ?? 120, source: `results/${f} transceiver.payloadBytes` },
    };
  });
  if (!transport)
    throw new CapacityInputError(
      `no transceiver capacity run (rtp-echo) in ${resultsDir}: run npm run bench -- --only transceiver`,
    );
  const voice = find<Measured>((b, f) => {
    const step = b.transceiver?.agent === 'echo' ? b.transceiver.steps?.[0] : undefined;
    return step?.cpuPercentPerSession === undefined
      ? undefined
      : {
          value: step.cpuPercentPerSession / 100,
          source: `results/${f} transceiver.steps[sessions=${step.sessions}].cpuPercentPerSession (echo agent, Opus both ways${step.pass ? '' : '; that step missed the RTT bar'})`,
        };
  });
  const setupCpu = find<Measured>((b, f) => {
    const v = b.setup?.sequential?.transceiverCpuMsPerCall;
    return v === undefined
      ? undefined
      : { value: v, source: `results/${f} setup.sequential.transceiverCpuMsPerCall` };
  });
  if (!setupCpu)
    throw new CapacityInputError(`no setup run in ${resultsDir}: run npm run bench -- --only setup`);
  return {
    relayCpuUsPerPacket: {
      value: 14.1,
      source:
        'README Performance, full run of 2026-11-21 (commit 96ac083): relay CPU per forwarded packet; no relay run in results/',
    },
    transceiverCoreShareTransport: transport.share,
    ...(voice && { transceiverCoreShareVoice: voice }),
    sessionsPerTransceiver: transport.per,
    transceiverSetupCpuMs: setupCpu,
    edgeCpuUsPerCreation: {
      value: 527,
      source:
        'README Performance, full run of 2026-11-21: signaling CPU per creation (1889/s on one core); no signaling run in results/',
    },
    packetRate: transport.rate,
    payloadBytes: transport.payload,
  };
}
