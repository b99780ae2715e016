import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transceiverProcessEnv } from '@parley/core/transceiver-node-options.js';
import { isLoopbackHost } from '@parley/edge/web/config.js';
import { relaySnapshotArgs } from '@parley/shared/lifecycle/relay-snapshot-args.js';
import { spawnTied } from '@parley/shared/lifecycle/spawn-tied.js';
import { freeTcpPort } from '@parley/shared/net/free-port.js';
import type { ReadyMessage } from './service-runner.js';

export type ServiceName = 'transceiver' | 'relay' | 'edge' | 'agent';

export type DevAgent = 'echo' | 'grpc' | 'realtime';

export interface DevStackOptions {
  httpPort: number;
  relayPort: number;
  /** Loopback by default: the dev stack is not meant to be reachable from elsewhere. */
  host?: string;
  /** The transceiver's one ICE UDP port, shared by every session (default 20000). */
  icePort?: number;
  /** Use this NATS instead of spawning nats-server. */
  natsUrl?: string;
  /** Child output goes here, each line prefixed with its service name. */
  output?: (line: string) => void;
  /** Extra environment for every child (log level, timeouts). */
  env?: Record<string, string>;
  /** The transceiver's default agent (default echo). */
  agent?: DevAgent;
  /**
   * The model server for grpc (host:port) or realtime (ws[s]:// URL). Without
   * it, the reference model server is started as one more child.
   */
  agentUrl?: string;
  readyTimeoutMs?: number;
  /** The edge's HS256 secret (32+ chars), e.g. to keep tokens valid across restarts; random by default. */
  jwtSecret?: string;
  /** Listen address of the edge's HTTP and the relay's UDP port, for a remote dev box (default: host). */
  bind?: string;
  /** The relay address browsers are told to use (answers' only candidate); default: bind, or host. */
  advertise?: string;
}

export interface DevStack {
  edgeUrl: string;
  token: string;
  /** The edge's HS256 secret, so `parley token` can mint for it. */
  jwtSecret: string;
  natsUrl: string;
  relay: { host: string; port: number };
  /** What each service reported when it became ready (ids, metrics URLs; `agent` only when started). */
  info: Record<ServiceName, Record<string, unknown>>;
  /** The default agent and where it is served. */
  agent: { name: DevAgent; url?: string };
  /** Stop one service and start it again with the same configuration. */
  restart(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
  /**
   * SIGKILL to every child, now: for a second Ctrl-C while stop() waits. A
   * child left SIGSTOPped would ignore the SIGTERM its parent's death sends.
   */
  killNow(): void;
  /** Resolves with the service name if a child exits unexpectedly. */
  crashed: Promise<ServiceName | 'nats'>;
}

// The built CLI, whether this module runs from src/ (tests) or dist/.
const DIST = new URL('../dist/', import.meta.url);
const MAIN = fileURLToPath(new URL('main.js', DIST));

/**
 * The whole local stack as separate processes, as in production: nats-server,
 * one transceiver, one relay, one signaling edge, wired with fresh random
 * secrets for this run only.
 */
export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  const host = opts.host ?? '127.0.0.1';
  const out = opts.output ?? (() => {});
  const tokenKeys = `1:${randomBytes(32).toString('base64')}`;
  const jwtSecret = opts.jwtSecret ?? randomBytes(32).toString('base64url');
  const bind = opts.bind ?? host;
  const advertise = opts.advertise ?? bind;
  const children = new Map<ServiceName | 'nats', ChildProcess>();
  let stopping = false;
  let reportCrash!: (name: ServiceName | 'nats') => void;
  const crashed = new Promise<ServiceName | 'nats'>((r) => {
    reportCrash = r;
  });

  let natsUrl = opts.natsUrl;
  // JetStream for the relays' shared flow cache (a KV bucket); its store lives as long as this stack.
  let jsStore: string | undefined;
  const relayState = mkdtempSync(join(tmpdir(), 'parley-dev-relay-'));
  if (!natsUrl) {
    jsStore = mkdtempSync(join(tmpdir(), 'parley-dev-nats-'));
    const port = await freeTcpPort(host);
    natsUrl = `nats://${host}:${port}`;
    // Tied to this process: the kernel sends nats-server SIGTERM if `parley dev` dies, even by SIGKILL.
    const nats = spawnTied('nats-server', ['-a', host, '-p', String(port), '-js', '-sd', jsStore], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C must not stop NATS before the services that use it.
      detached: true,
    });
    children.set('nats', nats);
    pipeLines(nats, 'nats', out);
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) =>
        reject(
          new Error(
            `cannot start nats-server (${e.message}); install it (apt-get install -y nats-server) or set NATS_URL`,
          ),
        );
      nats.once('error', onErr);
      // nats-server logs "Server is ready" on stderr when it accepts clients.
      let seen = '';
      nats.stderr?.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('Server is ready')) resolve();
      });
      nats.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${seen.slice(-300)}`)));
    });
    nats.removeAllListeners('exit');
    nats.once('exit', () => !stopping && reportCrash('nats'));
  }

  const common: Record<string, string> = {
    NATS_URL: natsUrl,
    PARLEY_TOKEN_KEYS: tokenKeys,
    PARLEY_CLUSTER: 'local',
    PARLEY_REGION: 'local',
    ...opts.env,
  };
  const agentName = opts.agent ?? 'echo';
  let agentUrl = opts.agentUrl;
  const agentEnv = (): Record<string, string> => {
    if (agentName === 'grpc')
      return { PARLEY_DEFAULT_AGENT: 'grpc', PARLEY_AGENT_GRPC_URL: agentUrl as string };
    if (agentName === 'realtime')
      return { PARLEY_DEFAULT_AGENT: 'realtime', PARLEY_REALTIME_URL: agentUrl as string };
    return { PARLEY_DEFAULT_AGENT: 'echo' };
  };
  const argsFor = async (name: ServiceName): Promise<string[]> =>
    name === 'agent'
      ? ['agent-server', '--protocol', agentName, '--host', host, '--port', String(await freeTcpPort(host))]
      : [name];
  const envFor = async (name: ServiceName): Promise<Record<string, string>> => {
    const metrics = String(await freeTcpPort(host));
    switch (name) {
      case 'agent':
        return { ...common };
      case 'transceiver':
        return {
          ...common,
          ...agentEnv(),
          PARLEY_TRANSCEIVER_ID: 'dev-transceiver-1',
          // Ctrl-C should not wait 30 s for calls (stopChild's SIGKILL comes after 5 s anyway).
          PARLEY_DRAIN_TIMEOUT_MS: '3000',
          ...opts.env,
          PARLEY_PRIVATE_ADDRESS: host,
          PARLEY_ICE_PORT: String(opts.icePort ?? 20_000),
          PARLEY_METRICS_PORT: metrics,
          // The young-generation cap and malloc arena cap the image sets (see transceiver-node-options.ts), added
          // to the options the caller gave this stack (a test's preloaded probe) or else this process's own.
          ...transceiverProcessEnv({
            NODE_OPTIONS: opts.env?.NODE_OPTIONS ?? process.env.NODE_OPTIONS,
            MALLOC_ARENA_MAX: opts.env?.MALLOC_ARENA_MAX ?? process.env.MALLOC_ARENA_MAX,
          }),
        };
      case 'relay':
        return {
          ...common,
          // A restarted relay recovers its flows from here before it joins NATS (flow-journal.ts).
          PARLEY_RELAY_FLOW_JOURNAL: join(relayState, 'flows'),
          PARLEY_RELAY_HOST: bind,
          PARLEY_RELAY_PORT: String(opts.relayPort),
          // ICE-TCP on the same number as the UDP port (TCP and UDP ports are separate): no privilege needed.
          PARLEY_RELAY_TCP_PORT: String(opts.relayPort),
          PARLEY_RELAY_UPSTREAM_HOST: host,
          PARLEY_METRICS_PORT: metrics,
        };
      case 'edge':
        return {
          ...common,
          PARLEY_HTTP_HOST: bind,
          PARLEY_HTTP_PORT: String(opts.httpPort),
          PARLEY_RELAY_ADVERTISE: `${advertise.includes(':') ? `[${advertise}]` : advertise}:${opts.relayPort}`,
          PARLEY_RELAY_TCP_ADVERTISE: `${advertise.includes(':') ? `[${advertise}]` : advertise}:${opts.relayPort}`,
          PARLEY_AUTH: 'jwt',
          PARLEY_AUTH_JWT_SECRET: jwtSecret,
          // The page at / fetches a token from the loopback-only /dev/token, so opening the URL just works.
          // Only on a loopback listener (the edge refuses it elsewhere); remote dev boxes use ?token=.
          PARLEY_DEV_TOKEN_ENDPOINT: isLoopbackHost(bind) ? '1' : '0',
          PARLEY_METRICS_PORT: metrics,
        };
    }
  };
  const envs = new Map<ServiceName, Record<string, string>>();
  const argvs = new Map<ServiceName, string[]>();
  const info = {} as Record<ServiceName, Record<string, unknown>>;

  async function startChild(name: ServiceName): Promise<void> {
    let env = envs.get(name);
    if (!env) {
      env = await envFor(name);
      envs.set(name, env);
    }
    let argv = argvs.get(name);
    if (!argv) {
      argv = await argsFor(name);
      argvs.set(name, argv);
    }
    // fork() without the parent's flags (a test runner's loader conditions would point children at
    // src/), tied to this process so a `parley dev` killed even mid-start leaves no service behind.
    const childEnv = { ...process.env, ...env };
    // The relay from its startup snapshot when there is a usable one (as the Kubernetes manifest starts it):
    // main.js would execve() into it, but not with this IPC channel (see main.ts).
    const snapshot = name === 'relay' ? relaySnapshotArgs(DIST, childEnv) : undefined;
    const child = spawnTied(process.execPath, snapshot ? [...snapshot, ...argv.slice(1)] : [MAIN, ...argv], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    children.set(name, child);
    // Keep the last lines so a failed start can say why, even when output is not shown.
    const tail: string[] = [];
    pipeLines(child, name, (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      out(line);
    });
    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} not ready after ${opts.readyTimeoutMs ?? 20_000} ms`)),
        opts.readyTimeoutMs ?? 20_000,
      );
      child.once('message', (m: ReadyMessage) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with status ${code} before it was ready:\n${tail.join('\n')}`));
      });
    });
    child.removeAllListeners('exit');
    child.once('exit', () => {
      if (!stopping && children.get(name) === child) reportCrash(name);
    });
    info[name] = ready.info;
  }

  async function stopChild(name: ServiceName | 'nats'): Promise<void> {
    const child = children.get(name);
    children.delete(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      // A stopped (SIGSTOP, debugger) child only acts on the SIGTERM once it runs again.
      child.kill('SIGCONT');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    });
  }

  const stop = async () => {
    stopping = true;
    // Edge first (no new sessions), then the rest together (each bounded by stopChild), then NATS.
    await stopChild('edge');
    await Promise.all([stopChild('relay'), stopChild('transceiver'), stopChild('agent')]);
    await stopChild('nats');
    if (jsStore) rmSync(jsStore, { recursive: true, force: true });
    rmSync(relayState, { recursive: true, force: true });
  };

  try {
    if (agentName !== 'echo' && !agentUrl) {
      // The reference model server, so the transceiver has someone to talk to.
      await startChild('agent');
      agentUrl = info.agent.url as string;
    }
    // Transceiver first so the edge finds it on its first discovery request.
    await startChild('transceiver');
    await startChild('relay');
    await startChild('edge');
  } catch (err) {
    await stop();
    throw err;
  }

  const { mintDevToken } = await import('@parley/edge/signaling/auth.js');
  const token = await mintDevToken(jwtSecret, { subject: 'dev', ttlSeconds: 24 * 3600 });
  return {
    edgeUrl: `http://${urlHost(bind === '0.0.0.0' || bind === '::' ? host : bind)}:${opts.httpPort}`,
    token,
    jwtSecret,
    natsUrl,
    relay: { host: advertise, port: opts.relayPort },
    info,
    agent: { name: agentName, url: agentUrl },
    crashed,
    restart: async (name) => {
      await stopChild(name);
      await startChild(name);
    },
    stop,
    killNow: () => {
      for (const child of children.values()) child.kill('SIGKILL');
    },
  };
}

function pipeLines(child: ChildProcess, name: string, out: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        out(`[${name}] ${buf.slice(0, i)}`);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    });
  }
}

function urlHost(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}
