import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityInputs, Measured } from './capacity-model.js';

interface Step {
  sessions: number;
  pass?: boolean;
  cpuPercentPerSession?: number;
}
/** The fields of a `npm run bench` result (loadtest/src/bench/report.ts) the model reads. */
interface BenchFile {
  startedAt?: string;
  mode?: string;
  git?: { commit?: string; dirty?: boolean };
  relay?: { payloadBytes?: number; paths?: { path: string; cpuUsPerPacket?: number }[] };
  transceiver?: {
    agent?: string;
    maxSessions?: number;
    packetRate?: number;
    payloadBytes?: number;
    steps?: Step[];
  };
  setup?: { sequential?: { transceiverCpuMsPerCall?: number } };
  signaling?: {
    edgePinned?: boolean;
    maxCreatesPerSecond?: number;
    limitedBy?: 'edge' | 'client';
    levels?: { concurrency: number; createsPerSecond: number; edgeCpuUsPerCreate?: number }[];
  };
}

/** A figure the model needs is in no results file; the message names the bench that measures it. */
export class CapacityInputError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
  ) {
    super(message);
    this.name = 'CapacityInputError';
  }
}

/** How to produce each figure, for the error message. */
const BENCH_FOR: Record<string, string> = {
  relayCpuUsPerPacket: 'npm run bench -- --only relay',
  transceiverCoreShareTransport: 'npm run bench -- --only transceiver --agent rtp-echo',
  sessionsPerTransceiver: 'npm run bench -- --only transceiver --agent rtp-echo',
  transceiverSetupCpuMs: 'npm run bench -- --only setup',
  edgeCpuUsPerCreation: 'npm run bench -- --only signaling',
};

/**
 * Every input of the capacity model from the bench results in `resultsDir`
 * (`bench-<time>[-quick].json`, as `npm run bench` writes them): for each
 * figure the newest file that has it, named with its field, run time and
 * commit. Nothing is taken from anywhere else; a figure no file has is an
 * error naming the bench to run.
 */
export function readCapacityInputs(resultsDir: string): CapacityInputs {
  let names: string[];
  try {
    names = readdirSync(resultsDir);
  } catch (e) {
    throw new CapacityInputError(
      `no bench results at ${resultsDir} (${(e as Error).message}): run npm run bench first`,
      Object.keys(BENCH_FOR),
    );
  }
  // Names carry an ISO time, so the name order is the run order.
  const files = names
    .filter((f) => /^bench-.*\.json$/.test(f))
    .sort()
    .reverse();
  const cache = new Map<string, BenchFile>();
  const load = (f: string): BenchFile => {
    let b = cache.get(f);
    if (!b) {
      b = JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as BenchFile;
      cache.set(f, b);
    }
    return b;
  };
  const find = <T>(
    pick: (b: BenchFile, where: (field: string) => string) => T | undefined,
  ): T | undefined => {
    for (const f of files) {
      const b = load(f);
      const where = (field: string) =>
        `results/${f} ${field} (${b.mode ?? '?'} run ${b.startedAt ?? '?'}, commit ${b.git?.commit?.slice(0, 7) ?? '?'}${b.git?.dirty ? '+uncommitted' : ''})`;
      const v = pick(b, where);
      if (v !== undefined) return v;
    }
    return undefined;
  };

  const relay = find<Measured>((b, where) => {
    const i = b.relay?.paths?.findIndex((p) => p.path === 'parley') ?? -1;
    const v = i >= 0 ? b.relay?.paths?.[i]?.cpuUsPerPacket : undefined;
    return v === undefined
      ? undefined
      : { value: v, source: where(`relay.paths[${i}] (parley).cpuUsPerPacket`) };
  });

  const transport = find((b, where) => {
    const t = b.transceiver;
    if (!t || (t.agent ?? 'rtp-echo') !== 'rtp-echo' || !t.maxSessions) return undefined;
    const step = t.steps?.find((s) => s.sessions === t.maxSessions && s.pass);
    if (
      step?.cpuPercentPerSession === undefined ||
      t.packetRate === undefined ||
      t.payloadBytes === undefined
    )
      return undefined;
    return {
      share: {
        value: step.cpuPercentPerSession / 100,
        source: where(
          `transceiver.steps[sessions=${step.sessions}].cpuPercentPerSession / 100 (rtp-echo, largest passing step)`,
        ),
      },
      per: {
        value: t.maxSessions,
        source: where('transceiver.maxSessions (one core, echo RTT p99 ≤ 20 ms, no loss)'),
      },
      rate: { value: t.packetRate, source: where('transceiver.packetRate') },
      payload: { value: t.payloadBytes, source: where('transceiver.payloadBytes') },
    };
  });

  const voice = find<Measured>((b, where) => {
    const step = b.transceiver?.agent === 'echo' ? b.transceiver.steps?.[0] : undefined;
    return step?.cpuPercentPerSession === undefined
      ? undefined
      : {
          value: step.cpuPercentPerSession / 100,
          source: where(
            `transceiver.steps[sessions=${step.sessions}].cpuPercentPerSession / 100 (echo agent, Opus both ways${step.pass ? '' : '; that step missed the RTT bar'})`,
          ),
        };
  });

  const setupCpu = find<Measured>((b, where) => {
    const v = b.setup?.sequential?.transceiverCpuMsPerCall;
    return v === undefined
      ? undefined
      : { value: v, source: where('setup.sequential.transceiverCpuMsPerCall') };
  });

  // The edge's measured CPU per creation at its best level; older results carry only the rate,
  // whose inverse is the same figure when the pinned edge was the limit.
  const edgeCpu = find<Measured>((b, where) => {
    const s = b.signaling;
    if (!s?.maxCreatesPerSecond || !s.edgePinned) return undefined;
    const i = s.levels?.findIndex((l) => l.createsPerSecond === s.maxCreatesPerSecond) ?? -1;
    const level = i >= 0 ? s.levels?.[i] : undefined;
    if (level?.edgeCpuUsPerCreate !== undefined)
      return {
        value: level.edgeCpuUsPerCreate,
        source: where(
          `signaling.levels[${i}].edgeCpuUsPerCreate (concurrency ${level.concurrency}, ${level.createsPerSecond} creations/s, the best level; edge pinned to one core)`,
        ),
      };
    return {
      value: Math.round(1e6 / s.maxCreatesPerSecond),
      source: where(
        `1e6 / signaling.maxCreatesPerSecond (${s.maxCreatesPerSecond}/s, edge pinned to one core${s.limitedBy === 'client' ? '; the load client was the limit, so the edge costs at most this' : ''})`,
      ),
    };
  });

  const found: Record<string, unknown> = {
    relayCpuUsPerPacket: relay,
    transceiverCoreShareTransport: transport,
    sessionsPerTransceiver: transport,
    transceiverSetupCpuMs: setupCpu,
    edgeCpuUsPerCreation: edgeCpu,
  };
  const missing = Object.keys(found).filter((k) => found[k] === undefined);
  if (missing.length > 0 || !relay || !transport || !setupCpu || !edgeCpu) {
    const runs = [...new Set(missing.map((k) => BENCH_FOR[k]))];
    throw new CapacityInputError(
      `the capacity model needs figures no bench result in ${resultsDir} has (${files.length} file(s) read): ` +
        `${missing.join(', ')}. Run ${runs.join(', then ')}.`,
      missing,
    );
  }
  return {
    relayCpuUsPerPacket: relay,
    transceiverCoreShareTransport: transport.share,
    ...(voice && { transceiverCoreShareVoice: voice }),
    sessionsPerTransceiver: transport.per,
    transceiverSetupCpuMs: setupCpu,
    edgeCpuUsPerCreation: edgeCpu,
    packetRate: transport.rate,
    payloadBytes: transport.payload,
  };
}
