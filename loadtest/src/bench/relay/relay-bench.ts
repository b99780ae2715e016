import { randomBytes } from 'node:crypto';
import { createLogger } from '@parley/shared/log.js';
import { encodeJson } from '@parley/shared/nats/codec.js';
import { connectNats, type NatsConnection } from '@parley/shared/nats/connect.js';
import type { TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT } from '@parley/shared/nats/subjects.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { encodeToken, makeKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { keepCoreAwake } from '../proc/core-awake.js';
import type { CpuPlan } from '../proc/cpu-pin.js';
import { pinToCpu } from '../proc/cpu-pin.js';
import { startService } from '../proc/service-launcher.js';
import { startWorker, type Worker } from '../proc/worker-rpc.js';
import { detectCoturn, startCoturn } from '../turn/coturn-server.js';
import type { Address } from '../turn/turn-codec.js';
import { type RunningCapture, startHopCapture } from './hop-capture.js';
import {
  fmtRate,
  measureFixed,
  type PathContext,
  type PathMeasurement,
  type PathName,
  type PathPlan,
  pathResult,
  searchMax,
  warmUp,
} from './measure-path.js';
import type { FlowMode } from './udp-generator.js';
import { PROBE_BYTES } from './udp-probe.js';

export interface RelayBenchOptions {
  quick: boolean;
  flows: number;
  /** Compare with coturn when it is installed. */
  coturn: boolean;
  cpus: CpuPlan;
  /** Keep the core under test out of idle (keepCoreAwake) for the whole run: a diagnostic. */
  awakeCore?: boolean;
  progress: (line: string) => void;
}

export interface RelayBenchResult {
  flows: number;
  payloadBytes: number;
  plan: PathPlan;
  rounds: number;
  paths: PathMeasurement[];
  coturn: { version: string } | { skipped: string };
  /** Parley relay over coturn at the highest rate each forwarded with < 1 % loss. */
  relayOverCoturn?: number;
  /** The same ratio for the relay on node:dgram I/O (relayOverCoturn is the native path when it ran). */
  relayDgramOverCoturn?: number;
  /** Parley relay CPU per packet over coturn's (below 1 means the relay is cheaper per packet). */
  cpuPerPacketRelayOverCoturn?: number;
  /**
   * Added one-way latency at each fixed rate: p50/p99 are the path's minus
   * the direct path's (end to end, sink clock); hopP50/hopP99 the relay hop
   * itself per packet from a loopback capture, when it ran.
   */
  addedLatencyMs: {
    path: string;
    ratePps: number;
    p50: number;
    p99: number;
    hopP50?: number;
    hopP99?: number;
  }[];
  /** Why the loopback capture of the relay hop did not run (tcpdump missing, no CAP_NET_RAW, turned off). */
  hopCaptureSkipped?: string;
  /** With --awake-core: the core kept out of idle, or why it was not. */
  awakeCore?: { cpu: number } | { skipped: string };
}

const ROUTE_NAME = 'bench-sink';
/** The relay hop is captured at the fixed rates up to this one (the 10k pps latency target's). */
const HOP_CAPTURE_MAX_PPS = 20_000;

/**
 * Relay forwarding: the same flows and rates straight to a sink, through
 * the Parley relay process (pinned to one core) and, when installed,
 * through coturn (pinned to the same core) with TURN ChannelData.
 */
export async function benchRelay(o: RelayBenchOptions): Promise<RelayBenchResult> {
  const plan: PathPlan = o.quick
    ? {
        fixedRates: [10_000, 50_000],
        fixedMs: 1_500,
        fixedSlices: 5,
        startRate: 25_000,
        growth: 1.5,
        maxRate: 400_000,
        stepMs: 1_000,
        refine: 1,
      }
    : {
        fixedRates: [10_000, 50_000],
        fixedMs: 4_000,
        fixedSlices: 8,
        startRate: 20_000,
        growth: 1.25,
        maxRate: 500_000,
        stepMs: 2_000,
        refine: 2,
      };
  const rounds = o.quick ? 1 : 3;
  const here = import.meta.url;
  const loadCpu = (i: number) => (o.cpus.load.length ? o.cpus.load[i % o.cpus.load.length] : undefined);
  const cleanups: (() => Promise<unknown>)[] = [];
  const worker = async (file: string, name: string, cpu: number | undefined) => {
    const w = await startWorker(new URL(file, here), { name, cpu });
    cleanups.push(() => w.stop());
    return w;
  };
  let coturn: RelayBenchResult['coturn'] = { skipped: 'disabled with --no-coturn' };
  const results: PathMeasurement[] = [];
  let hopCaptureSkipped: string | undefined;
  let awakeCore: RelayBenchResult['awakeCore'];
  try {
    if (o.awakeCore) {
      const awake =
        o.cpus.underTest === undefined
          ? { skipped: 'no core under test (no pinning)' }
          : keepCoreAwake(o.cpus.underTest);
      if ('skipped' in awake) awakeCore = awake;
      else {
        cleanups.push(() => awake.stop());
        awakeCore = { cpu: awake.cpu };
      }
      o.progress(
        'skipped' in awake
          ? `relay: --awake-core not applied: ${awake.skipped}`
          : `relay: cpu ${awake.cpu} kept out of idle (SCHED_IDLE busy loop) for this run`,
      );
    }
    const sink = await worker('./udp-sink-worker.js', 'sink', loadCpu(1));
    const { port: sinkPort } = await sink.call<{ port: number }>('bind');
    const sinkAddr: Address = { ip: '127.0.0.1', port: sinkPort };
    const paths: { path: PathName; ctx: PathContext; pinned: boolean }[] = [];

    // The direct path measures the load harness itself: its ceiling bounds every other path.
    const direct = await worker('./udp-generator-worker.js', 'generator-direct', loadCpu(0));
    await openFlows(direct, sinkAddr, o.flows, { kind: 'direct' });
    paths.push({ path: 'direct', ctx: { gen: direct, sink, sinkPort }, pinned: false });

    // The Parley relay: the real relay process, discovery over a real NATS, tokens for the sink's port.
    const nats = await NatsServerProcess.start();
    cleanups.push(() => nats.stop());
    const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
    const nc = await connectNats([nats.url], 'bench-relay', createLogger('bench', 'silent'));
    cleanups.push(() => nc.close());
    const stopAnnouncing = announceSink(nc, sinkPort);
    cleanups.push(async () => stopAnnouncing());
    const expiresAt = Math.floor(Date.now() / 1000) + 3_600;
    const usernames = Array.from(
      { length: o.flows },
      (_, i) => `${encodeToken(keyring, { routeId: routeIdOf(ROUTE_NAME), expiresAt })}:bn${i}`,
    );
    // The same relay on both UDP I/O paths, each its own process on the same core.
    for (const [path, io] of [
      ['parley', 'native'],
      ['parley-dgram', 'dgram'],
    ] as const) {
      const relayPort = await freeUdpPort();
      const relay = await startService('relay', {
        env: {
          NATS_URL: nats.url,
          PARLEY_TOKEN_KEYS: `1:${keyring.signing.secret.toString('base64')}`,
          PARLEY_RELAY_HOST: '127.0.0.1',
          PARLEY_RELAY_PORT: String(relayPort),
          PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
          PARLEY_RELAY_IO: io,
          PARLEY_METRICS_PORT: String(await freeTcpPort()),
          // The per-IP limiter would throttle opening this many flows from one address; it is not what is measured.
          PARLEY_RELAY_NEW_FLOWS_PER_IP_PER_SECOND: '0',
          // Every bench flow comes from 127.0.0.1: the per-IP flow cap (512) would refuse most of them.
          PARLEY_RELAY_MAX_FLOWS_PER_IP: String(o.flows + 16),
          // UDP only; the default ICE-TCP port (443) may be taken on a shared machine.
          PARLEY_RELAY_TCP_PORT: '0',
        },
        cpu: o.cpus.underTest,
        ...(process.env.PARLEY_BENCH_RELAY_NODE_FLAGS && {
          execArgv: process.env.PARLEY_BENCH_RELAY_NODE_FLAGS.split(' '),
        }),
      }).catch((err: Error) => {
        // Native I/O needs the addon (npm run build:native): without it the dgram row still runs.
        o.progress(`relay: ${path} (${io} I/O) did not start, skipped: ${err.message.split('\n')[0]}`);
        return undefined;
      });
      if (!relay) continue;
      cleanups.push(() => relay.stop());
      await new Promise((r) => setTimeout(r, 300));
      o.progress(
        `relay: Parley relay (${io} I/O) pid ${relay.pid}${relay.pinned ? ` pinned to cpu ${o.cpus.underTest}` : ' (not pinned)'}`,
      );
      const viaRelay = await worker('./udp-generator-worker.js', `generator-${path}`, loadCpu(0));
      await openFlows(viaRelay, { ip: '127.0.0.1', port: relayPort }, o.flows, { kind: 'parley', usernames });
      paths.push({
        path,
        ctx: {
          gen: viaRelay,
          sink,
          sinkPort,
          target: { pid: relay.pid, port: relayPort, pinned: relay.pinned },
          coreCpu: relay.pinned ? o.cpus.underTest : undefined,
        },
        pinned: relay.pinned,
      });
    }

    const found = o.coturn ? detectCoturn() : undefined;
    if (o.coturn && !found) coturn = { skipped: 'coturn (turnserver) is not installed' };
    if (found) {
      const turn = await startCoturn({ relayPorts: o.flows + 64, threads: 1 });
      cleanups.push(() => turn.stop());
      const pinned = o.cpus.underTest !== undefined && pinToCpu(turn.pid, o.cpus.underTest);
      coturn = { version: turn.version };
      o.progress(
        `relay: coturn ${turn.version} pid ${turn.pid}${pinned ? ` pinned to cpu ${o.cpus.underTest}` : ' (not pinned)'}, 1 relay thread`,
      );
      const viaTurn = await worker('./udp-generator-worker.js', 'generator-coturn', loadCpu(0));
      await openFlows(viaTurn, turn.address, o.flows, {
        kind: 'turn',
        username: turn.username,
        password: turn.password,
        peer: sinkAddr,
      });
      paths.push({
        path: 'coturn',
        ctx: {
          gen: viaTurn,
          sink,
          sinkPort,
          target: { pid: turn.pid, port: turn.address.port, pinned },
          coreCpu: pinned ? o.cpus.underTest : undefined,
        },
        pinned,
      });
    }

    for (const p of paths) await warmUp(p.path, p.ctx, plan.fixedRates[0]);
    o.progress(`relay: one-way latency at ${plan.fixedRates.map(fmtRate).join(' and ')}, ${o.flows} flows`);
    // The relay hop on the wire (hop-capture.ts); PARLEY_BENCH_HOP_CAPTURE=0 turns it off.
    const targets = new Map(
      paths.flatMap((p) => (p.ctx.target ? [[p.ctx.target.port, p.path] as const] : [])),
    );
    const capture = async (ratePps: number): Promise<RunningCapture | undefined> => {
      // tcpdump handles two sightings per probe on the load core: at the higher rates it would crowd the generator.
      if (ratePps > HOP_CAPTURE_MAX_PPS) return undefined;
      if (process.env.PARLEY_BENCH_HOP_CAPTURE === '0') {
        hopCaptureSkipped = 'turned off (PARLEY_BENCH_HOP_CAPTURE=0)';
        return undefined;
      }
      const c = await startHopCapture({ sinkPort, targets, cpu: loadCpu(0) });
      if ('skipped' in c) {
        hopCaptureSkipped = c.skipped;
        return undefined;
      }
      return c;
    };
    const fixed = await measureFixed(paths, plan, o.progress, capture);
    o.progress(`relay: highest rate with < 1 % loss, ${rounds} round${rounds > 1 ? 's' : ''}`);
    const search = await searchMax(paths, plan, rounds, o.progress);
    for (const p of paths) {
      const s = search.get(p.path);
      if (s) results.push(pathResult(p.path, p.pinned, fixed.get(p.path) ?? [], s, p.path !== 'direct'));
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }

  const direct = results.find((p) => p.path === 'direct');
  const addedLatencyMs: RelayBenchResult['addedLatencyMs'] = [];
  for (const p of results) {
    if (p.path === 'direct' || !direct) continue;
    for (const l of p.fixed) {
      const base = direct.fixed.find((d) => d.ratePps === l.ratePps);
      if (!base) continue;
      addedLatencyMs.push({
        path: p.path,
        ratePps: l.ratePps,
        p50: round(l.latencyMs.p50 - base.latencyMs.p50),
        p99: round(l.latencyMs.p99 - base.latencyMs.p99),
        ...(l.hopMs && { hopP50: l.hopMs.p50, hopP99: l.hopMs.p99 }),
      });
    }
  }
  const parley = results.find((p) => p.path === 'parley') ?? results.find((p) => p.path === 'parley-dgram');
  const dgram = results.find((p) => p.path === 'parley-dgram');
  const turnPath = results.find((p) => p.path === 'coturn');
  return {
    flows: o.flows,
    payloadBytes: PROBE_BYTES,
    plan,
    rounds,
    paths: results,
    coturn,
    ...(parley && turnPath && turnPath.maxForwardedPps > 0
      ? { relayOverCoturn: round(parley.maxForwardedPps / turnPath.maxForwardedPps, 3) }
      : {}),
    ...(dgram && turnPath && turnPath.maxForwardedPps > 0
      ? { relayDgramOverCoturn: round(dgram.maxForwardedPps / turnPath.maxForwardedPps, 3) }
      : {}),
    ...(parley?.cpuUsPerPacket && turnPath?.cpuUsPerPacket
      ? { cpuPerPacketRelayOverCoturn: round(parley.cpuUsPerPacket / turnPath.cpuUsPerPacket, 3) }
      : {}),
    addedLatencyMs,
    ...(hopCaptureSkipped !== undefined && { hopCaptureSkipped }),
    ...(awakeCore !== undefined && { awakeCore }),
  };
}

async function openFlows(gen: Worker, target: Address, flows: number, mode: FlowMode): Promise<void> {
  await gen.call('open', { target, flows, mode }, 60_000);
}

/** Announces the sink as a transceiver whose one ICE port is the sink's port, as discovery expects. */
function announceSink(nc: NatsConnection, port: number): () => void {
  const announce = (): void => {
    const a: TransceiverAnnounce = {
      id: ROUTE_NAME,
      routeId: routeIdOf(ROUTE_NAME),
      cluster: 'local',
      region: 'local',
      address: '127.0.0.1',
      port,
      sessions: 0,
      capacity: 100_000,
      draining: false,
      version: 'bench',
      sentAt: Date.now(),
    };
    nc.publish(ANNOUNCE_SUBJECT, encodeJson(a));
  };
  const sub = nc.subscribe(DISCOVER_SUBJECT, { callback: announce });
  const timer = setInterval(announce, 500);
  announce();
  return () => {
    clearInterval(timer);
    sub.unsubscribe();
  };
}

function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
