import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { transceiverProcessEnv } from '@parley/core/transceiver-node-options.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { CLI_MAIN, type RunningService, startService } from '../proc/service-launcher.js';
import { freeUdpRangeBelowEphemeral } from './port-range.js';

export interface BenchStackOptions {
  /** Most concurrent sessions the transceiver admits (all share its one ICE port). */
  capacity: number;
  /** Extra transceiver environment (capacity, setup admission). */
  transceiverEnv?: Record<string, string>;
  /** Pin the transceiver to this core. */
  transceiverCpu?: number;
  /** Node flags for the transceiver (e.g. --cpu-prof for a profiling run). */
  transceiverExecArgv?: string[];
  /** Pin relay, edge and NATS-side work to these cores' first entry, away from the transceiver. */
  otherCpu?: number;
  /** Extra relay environment (e.g. PARLEY_RELAY_REUSE_PORT for the restart bench). */
  relayEnv?: Record<string, string>;
  /** Open the relay's ICE-TCP port and have the edge advertise it (the TCP path bench). */
  relayTcp?: boolean;
}

export interface BenchStack {
  edgeUrl: string;
  token: string;
  natsUrl: string;
  /** The transceiver's one ICE port on 127.0.0.1. */
  icePort: number;
  transceiver: RunningService;
  /** The relay started with the stack (a bench may kill it and start others with startRelay). */
  relay: RunningService;
  /** The relay's UDP port on 127.0.0.1, and its ICE-TCP port when relayTcp is set. */
  relayPort: number;
  relayTcpPort?: number;
  edge: RunningService;
  /** Another relay process with the stack's relay configuration (plus `env`), stopped with the stack. */
  startRelay(env?: Record<string, string>, output?: (line: string) => void): Promise<RunningService>;
  /** Stops the transceiver and starts it again with extra environment (same id, ports and keys). */
  restartTransceiver(env: Record<string, string>): Promise<RunningService>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

/**
 * The full stack as `parley dev` runs it (nats-server, transceiver, relay,
 * edge as separate processes of the built CLI, real JWT auth), with the
 * bench's pins and environment, and the transceiver restartable with
 * different settings for A/B runs in the same bench.
 */
export async function startBenchStack(o: BenchStackOptions): Promise<BenchStack> {
  const nats = await NatsServerProcess.start();
  const services: RunningService[] = [];
  // The relays' local flow journal, as the Kubernetes manifest gives each relay pod an emptyDir for it.
  const relayState = mkdtempSync(join(tmpdir(), 'parley-bench-relay-'));
  const stopAll = async () => {
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    await nats.stop();
    rmSync(relayState, { recursive: true, force: true });
  };
  try {
    // Below the ephemeral range: hundreds of load-generator sockets must not take it first.
    const ice = await freeUdpRangeBelowEphemeral(1);
    const relayPort = await freeUdpPort();
    const httpPort = await freeTcpPort();
    const jwtSecret = randomBytes(32).toString('base64url');
    const common = {
      NATS_URL: nats.url,
      PARLEY_TOKEN_KEYS: `1:${randomBytes(32).toString('base64')}`,
      PARLEY_CLUSTER: 'bench',
      PARLEY_REGION: 'bench',
    };
    const txEnv = async (extra: Record<string, string>) => ({
      ...common,
      PARLEY_TRANSCEIVER_ID: 'bench-transceiver',
      PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
      PARLEY_ICE_PORT: String(ice.min),
      PARLEY_CAPACITY: String(o.capacity),
      PARLEY_METRICS_PORT: String(await freeTcpPort()),
      // Node flags and malloc arenas as the transceiver image sets them, so its RSS is production's.
      ...transceiverProcessEnv(process.env),
      ...o.transceiverEnv,
      ...extra,
    });
    let transceiver = await startService('transceiver', {
      env: await txEnv({}),
      cpu: o.transceiverCpu,
      execArgv: o.transceiverExecArgv,
    });
    services.push(transceiver);
    const relayTcpPort = o.relayTcp ? await freeTcpPort() : undefined;
    const relayEnv = {
      ...common,
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(relayPort),
      PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
      // Every bench call comes from 127.0.0.1; the per-IP flow limiter is not under test.
      PARLEY_RELAY_NEW_FLOWS_PER_IP_PER_SECOND: '0',
      // ICE-TCP off unless asked for: the default (443) may be taken on a shared machine.
      PARLEY_RELAY_TCP_PORT: String(relayTcpPort ?? 0),
      PARLEY_RELAY_FLOW_JOURNAL: join(relayState, 'flows'),
      ...o.relayEnv,
    };
    const startRelay = async (env: Record<string, string> = {}, output?: (line: string) => void) => {
      const r = await startService('relay', {
        env: { ...relayEnv, PARLEY_METRICS_PORT: String(await freeTcpPort()), ...env },
        cpu: o.otherCpu,
        output,
      });
      services.push(r);
      return r;
    };
    const relay = await startRelay();
    const edge = await startService('edge', {
      env: {
        ...common,
        PARLEY_HTTP_HOST: '127.0.0.1',
        PARLEY_HTTP_PORT: String(httpPort),
        PARLEY_RELAY_ADVERTISE: `127.0.0.1:${relayPort}`,
        ...(relayTcpPort !== undefined && { PARLEY_RELAY_TCP_ADVERTISE: `127.0.0.1:${relayTcpPort}` }),
        PARLEY_AUTH: 'jwt',
        PARLEY_AUTH_JWT_SECRET: jwtSecret,
        PARLEY_METRICS_PORT: String(await freeTcpPort()),
      },
      cpu: o.otherCpu,
    });
    services.push(edge);
    const { stdout } = await run(
      process.execPath,
      [CLI_MAIN, 'token', '--subject', 'bench', '--ttl', '86400'],
      {
        env: { ...process.env, PARLEY_AUTH_JWT_SECRET: jwtSecret },
      },
    );
    const edgeUrl = `http://127.0.0.1:${httpPort}`;
    await waitHealthy(edgeUrl);
    return {
      edgeUrl,
      token: stdout.trim(),
      natsUrl: nats.url,
      icePort: ice.min,
      get transceiver() {
        return transceiver;
      },
      relay,
      relayPort,
      ...(relayTcpPort !== undefined && { relayTcpPort }),
      edge,
      startRelay,
      restartTransceiver: async (env) => {
        await transceiver.stop();
        services.splice(services.indexOf(transceiver), 1);
        transceiver = await startService('transceiver', {
          env: await txEnv(env),
          cpu: o.transceiverCpu,
          execArgv: o.transceiverExecArgv,
        });
        services.unshift(transceiver);
        // The edge learns of it from its first announcement.
        await waitHealthy(edgeUrl);
        await new Promise((r) => setTimeout(r, 300));
        return transceiver;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The edge's readiness: NATS connected and a transceiver known. */
async function waitHealthy(edgeUrl: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(new URL('/healthz', edgeUrl))
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`edge at ${edgeUrl} not healthy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
