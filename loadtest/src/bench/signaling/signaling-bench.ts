import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { freeTcpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import type { CpuPlan } from '../proc/cpu-pin.js';
import { CpuMeter } from '../proc/proc-stats.js';
import { CLI_MAIN, startService } from '../proc/service-launcher.js';
import { startWorker } from '../proc/worker-rpc.js';
import { createSessionsClosedLoop, type HttpLoadResult } from './http-load.js';

export interface SignalingBenchOptions {
  quick: boolean;
  cpus: CpuPlan;
  progress: (line: string) => void;
}

export interface SignalingLevel extends HttpLoadResult {
  edgeCpuShare: number;
  edgeCpuUsPerCreate: number;
}

export interface SignalingBenchResult {
  edgePinned: boolean;
  offerBytes: number;
  levels: SignalingLevel[];
  /** Best sustained rate over the concurrency levels, with no errors. */
  maxCreatesPerSecond: number;
  limitedBy: 'edge' | 'client';
}

const run = promisify(execFile);

/** A real werift offer, as a client would POST it. */
async function realOffer(): Promise<string> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  try {
    pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription?.sdp ?? '';
  } finally {
    await pc.close();
  }
}

/**
 * Signaling: session creations per second the edge process (pinned to one
 * core, JWT auth on) sustains when the transceiver answers instantly over
 * NATS, so only HTTP, auth, offer checks and the NATS round trip are measured.
 */
export async function benchSignaling(o: SignalingBenchOptions): Promise<SignalingBenchResult> {
  const levels = o.quick ? [1, 16, 64] : [1, 8, 32, 64, 128];
  const durationMs = o.quick ? 2_000 : 5_000;
  const nats = await NatsServerProcess.start();
  const cleanups: (() => Promise<unknown>)[] = [() => nats.stop()];
  try {
    const tx = await startWorker(new URL('./instant-transceiver-worker.js', import.meta.url), {
      name: 'instant-transceiver',
      cpu: o.cpus.load[0],
    });
    cleanups.push(() => tx.stop());
    await tx.call('start', { natsUrl: nats.url, id: 'bench-instant', cluster: 'bench' });
    const secret = randomBytes(32).toString('base64url');
    const port = await freeTcpPort();
    const edge = await startService('edge', {
      env: {
        NATS_URL: nats.url,
        PARLEY_CLUSTER: 'bench',
        PARLEY_REGION: 'bench',
        PARLEY_HTTP_HOST: '127.0.0.1',
        PARLEY_HTTP_PORT: String(port),
        PARLEY_RELAY_ADVERTISE: '127.0.0.1:3478',
        PARLEY_AUTH: 'jwt',
        PARLEY_AUTH_JWT_SECRET: secret,
        PARLEY_METRICS_PORT: String(await freeTcpPort()),
      },
      cpu: o.cpus.underTest,
    });
    cleanups.push(() => edge.stop());
    const { stdout } = await run(
      process.execPath,
      [CLI_MAIN, 'token', '--subject', 'bench', '--ttl', '3600'],
      {
        env: { ...process.env, PARLEY_AUTH_JWT_SECRET: secret },
      },
    );
    const token = stdout.trim();
    const edgeUrl = `http://127.0.0.1:${port}`;
    const offer = await realOffer();
    await waitFor(async () => (await fetch(new URL('/healthz', edgeUrl))).ok);
    // Warm up (JIT, NATS subscriptions, keep-alive sockets).
    await createSessionsClosedLoop({ edgeUrl, token, offer, concurrency: 8, durationMs: 500 });
    const results: SignalingLevel[] = [];
    for (const concurrency of levels) {
      const meter = new CpuMeter(edge.pid).start();
      const r = await createSessionsClosedLoop({ edgeUrl, token, offer, concurrency, durationMs });
      const cpu = meter.read();
      const level: SignalingLevel = {
        ...r,
        edgeCpuShare: Math.round((cpu.cpuSeconds / (r.elapsedMs / 1000)) * 100) / 100,
        edgeCpuUsPerCreate: r.created ? Math.round((cpu.cpuSeconds * 1e6) / r.created) : Number.NaN,
      };
      results.push(level);
      o.progress(
        `  concurrency ${concurrency}: ${r.createsPerSecond} creates/s, p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms, ` +
          `edge ${Math.round(level.edgeCpuShare * 100)} % of a core (${level.edgeCpuUsPerCreate} µs/create), ` +
          `client ${Math.round(r.clientCpuShare * 100)} %, errors ${JSON.stringify(r.errors)}`,
      );
    }
    const clean = results.filter((l) => Object.keys(l.errors).length === 0);
    const best = clean.reduce<SignalingLevel | undefined>(
      (a, l) => (!a || l.createsPerSecond > a.createsPerSecond ? l : a),
      undefined,
    );
    return {
      edgePinned: edge.pinned,
      offerBytes: Buffer.byteLength(offer),
      levels: results,
      maxCreatesPerSecond: best?.createsPerSecond ?? 0,
      limitedBy: best && best.clientCpuShare >= 0.9 && best.edgeCpuShare < 0.9 ? 'client' : 'edge',
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('edge not healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
}
