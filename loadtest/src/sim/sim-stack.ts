import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relaySnapshotArgs } from '@parley/shared/lifecycle/relay-snapshot-args.js';
import { routeIdOf } from '@parley/shared/token/routing-token.js';
import { ip, NetnsError, removeNamespace, sysctl } from './netns.js';
import { coresByDistance, type Topology } from './topology.js';

const CLI_DIST = new URL('../../../cli/dist/', import.meta.url);
const CLI_MAIN = fileURLToPath(new URL('main.js', CLI_DIST));
const DELAY_MAIN = fileURLToPath(new URL('../../dist/sim/delay-element-main.js', import.meta.url));

/** Ports inside every namespace (each has its own stack, so they repeat). */
export const PORTS = {
  nats: 4222,
  gateway: 7222,
  leaf: 7422,
  natsHttp: 8222,
  http: 8080,
  relay: 3478,
  ice: 20000,
};

export interface SimTransceiver {
  id: string;
  routeId: string;
  core: string;
  cluster: string;
}

export interface SimStack {
  topo: Topology;
  prefix: string;
  transceivers: SimTransceiver[];
  jwtSecret: string;
  nsOf(site: string): string;
  edgeUrl(edge: string): string;
  relayAddress(edge: string): string;
  clusterOfCore(core: string): string;
  /** Which cluster owns a session, from the route id in its id or URL. */
  clusterOfSession(sessionIdOrUrl: string): string | undefined;
  /** Kills a core region: its transceivers and its NATS server. */
  killCore(core: string): Promise<void>;
  killRelay(edge: string): Promise<void>;
  /** GET a NATS server's monitoring endpoint (e.g. `gatewayz`) from inside its namespace. */
  natsMonitor(site: string, path: string): Promise<unknown>;
  startRelay(edge: string): Promise<void>;
  /** Drops every packet between two sites (both ways) in the delay element, and undoes it. */
  cut(a: string, b: string): Promise<void>;
  restore(a: string, b: string): Promise<void>;
  delayStats(): Promise<Record<string, number>>;
  /** Starts a command inside a site's namespace (stdout piped). */
  spawnIn(site: string, argv: string[], env?: Record<string, string>): ChildProcess;
  stop(): Promise<void>;
}

export interface SimOptions {
  topo: Topology;
  /** Called with each line a child writes on stderr, prefixed with its name. */
  output?: (line: string) => void;
  /** Extra environment for Parley processes. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /**
   * Receives stop() before anything is created, so a caller that gives up
   * while the world is still starting (a test hook's timeout) can remove it.
   */
  onStop?: (stop: () => Promise<void>) => void;
}

interface Proc {
  name: string;
  child: ChildProcess;
}

/**
 * Builds the simulated world on this machine: one network namespace per
 * site, each joined to a router namespace by a veth pair, every packet
 * between sites delayed by the delay element; one NATS cluster per core
 * region (gateways between them), one leaf node per edge region, and the
 * Parley processes, each in its region's namespace with that region's
 * configuration. stop() removes all of it; so does any failure on the way up.
 */
export async function startSim(opts: SimOptions): Promise<SimStack> {
  const { topo } = opts;
  const out = opts.output ?? (() => {});
  const prefix = `ps${randomBytes(2).toString('hex')}`;
  const routerNs = `${prefix}-r`;
  const nsOf = (site: string) => `${prefix}-${topo.site(site).index}`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const procs = new Map<string, Proc>();
  const namespaces: string[] = [];
  const tokenKeys = `1:${randomBytes(32).toString('base64')}`;
  const jwtSecret = randomBytes(32).toString('base64url');
  let delay: ChildProcess | undefined;
  let stopped = false;

  /** Removes whatever exists now; idempotent, so a late-created piece can be swept again. */
  const sweep = async () => {
    const running = [...procs.values()];
    procs.clear();
    // A short grace: the simulated world is thrown away, drains would only wait.
    await Promise.all(running.map((p) => killProc(p.child, 'SIGTERM', 1_000)));
    if (delay) await killProc(delay);
    for (const ns of namespaces.splice(0).reverse()) await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopped = true;
    stopping ??= sweep();
    return stopping;
  };
  opts.onStop?.(stop);
  /** Setup steps check this, so a stop() during startup ends the startup too. */
  const alive = () => {
    if (stopped) throw new NetnsError('stopped while starting');
  };

  const spawnIn = (
    site: string,
    argv: string[],
    env: Record<string, string> = {},
    ipc = false,
  ): ChildProcess =>
    spawn('ip', ['netns', 'exec', nsOf(site), ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
    });

  const transceivers: SimTransceiver[] = [];
  const clusterOfCore = (core: string) => topo.file.cores[core]?.cluster_name as string;
  const envs = new Map<string, { site: string; argv: string[]; env: Record<string, string> }>();

  async function startParley(
    name: string,
    site: string,
    service: string,
    env: Record<string, string>,
  ): Promise<void> {
    alive();
    envs.set(name, { site, argv: [service], env });
    const childEnv = { PARLEY_LOG_LEVEL: 'warn', ...opts.env, ...env };
    // Relays from their startup snapshot when there is a usable one, as parley dev and the image start them
    // (main.js would execve() into it, but not with this IPC channel: see cli/src/main.ts).
    const snapshot =
      service === 'relay' ? relaySnapshotArgs(CLI_DIST, { ...process.env, ...childEnv }) : undefined;
    const child = spawnIn(site, [process.execPath, ...(snapshot ?? [CLI_MAIN, service])], childEnv, true);
    procs.set(name, { name, child });
    const tail: string[] = [];
    pipe(child, name, (l) => {
      tail.push(l);
      if (tail.length > 15) tail.shift();
      out(l);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new NetnsError(
              `${name} not ready after ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail.join('\n')}`,
            ),
          ),
        opts.readyTimeoutMs ?? 60_000,
      );
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new NetnsError(`${name} exited with ${code} before it was ready:\n${tail.join('\n')}`));
      });
    });
    child.removeAllListeners('exit');
  }

  async function startNats(name: string, site: string, conf: string): Promise<void> {
    alive();
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, conf);
    const child = spawnIn(site, ['nats-server', '-c', file]);
    procs.set(name, { name, child });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new NetnsError(`${name} not ready: ${seen.slice(-400)}`)),
        15_000,
      );
      child.stderr?.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (e) =>
        reject(new NetnsError(`cannot start nats-server: ${e.message}`, { cause: e })),
      );
      child.once('exit', (code) =>
        reject(new NetnsError(`${name} exited with ${code}: ${seen.slice(-400)}`)),
      );
    });
    child.removeAllListeners('exit');
  }

  try {
    // --- the network ---
    await ip('netns', 'add', routerNs);
    namespaces.push(routerNs);
    await ip('-n', routerNs, 'link', 'set', 'lo', 'up');
    await sysctl(routerNs, 'net.ipv4.ip_forward', '1');
    await sysctl(routerNs, 'net.ipv4.conf.all.rp_filter', '0');
    await sysctl(routerNs, 'net.ipv4.conf.default.rp_filter', '0');
    for (const s of topo.sites) {
      alive();
      const ns = nsOf(s.name);
      await ip('netns', 'add', ns);
      namespaces.push(ns);
      // The host's resolver is unreachable from the simulated world; werift
      // resolves names while gathering and would wait out a 5 s DNS timeout.
      // `ip netns exec` bind-mounts this file over /etc/resolv.conf: lookups fail at once.
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip(
        '-n',
        routerNs,
        'link',
        'add',
        `v${s.index}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      );
      await ip('-n', routerNs, 'addr', 'add', `10.99.${s.index}.1/24`, 'dev', `v${s.index}`);
      await ip('-n', routerNs, 'link', 'set', `v${s.index}`, 'up');
      await ip('-n', ns, 'addr', 'add', `${s.address}/24`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'route', 'add', 'default', 'via', `10.99.${s.index}.1`);
      // Everything a site sends goes through the delay element's TUN.
      await ip('-n', routerNs, 'rule', 'add', 'iif', `v${s.index}`, 'lookup', '100');
    }
    // One-way delay between sites = half the pair's RTT.
    const n = topo.sites.length + 1;
    const oneWayMs: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (const a of topo.sites)
      for (const b of topo.sites) (oneWayMs[a.index] as number[])[b.index] = topo.rttMs(a.name, b.name) / 2;
    const tun = 'dly0';
    delay = spawn(
      'ip',
      ['netns', 'exec', routerNs, process.execPath, DELAY_MAIN, JSON.stringify({ tun, oneWayMs })],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    pipe(delay, 'delay', out);
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const onData = (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('"ready"')) {
          delay?.stdout?.off('data', onData);
          resolve();
        } else if (buf.includes('"error"')) reject(new NetnsError(`delay element: ${buf.trim()}`));
      };
      delay?.stdout?.on('data', onData);
      delay?.once('exit', (code) =>
        reject(new NetnsError(`delay element exited with ${code}: ${buf.trim()}`)),
      );
    });
    delay.removeAllListeners('exit');
    await ip('-n', routerNs, 'link', 'set', tun, 'up');
    await ip('-n', routerNs, 'route', 'add', 'default', 'dev', tun, 'table', '100');
    await sysctl(routerNs, `net.ipv4.conf.${tun}.rp_filter`, '0');

    // --- NATS: a cluster per core region, gateways between them; a leaf node per edge region ---
    // Independent processes start side by side: startup time is most of a short run.
    await Promise.all(
      topo.cores.map(async (core) => {
        const a = topo.site(core).address;
        const cluster = clusterOfCore(core);
        const peers = topo.cores
          .filter((c) => c !== core)
          .map(
            (c) =>
              `    { name: "${clusterOfCore(c)}", urls: ["nats://${topo.site(c).address}:${PORTS.gateway}"] }`,
          );
        await startNats(
          `nats-${core}`,
          core,
          [
            `server_name: "${core}"`,
            `listen: "${a}:${PORTS.nats}"`,
            `http: "${a}:${PORTS.natsHttp}"`,
            `cluster { name: "${cluster}", listen: "${a}:6222" }`,
            // A cut WAN link sends no RST: find a dead gateway in seconds, not the default 2 min × 2.
            'ping_interval: "2s"',
            'ping_max: 2',
            `gateway {\n  name: "${cluster}"\n  listen: "${a}:${PORTS.gateway}"\n  gateways: [\n${peers.join('\n')}\n  ]\n}`,
            `leafnodes { listen: "${a}:${PORTS.leaf}" }`,
            // Gateways with leaf nodes need a system account; applications share APP,
            // which clients without credentials (our processes, the leaves) land in.
            'accounts { SYS { users: [{ user: "sys", password: "sys" }] }, APP { users: [{ user: "app", password: "app" }] } }',
            'system_account: SYS',
            'no_auth_user: app',
          ].join('\n'),
        );
      }),
    );
    await Promise.all(
      topo.edges.map(async (edge) => {
        const a = topo.site(edge).address;
        // Nearest core first; the others are where the leaf reconnects when that region is gone.
        const urls = coresByDistance(topo, edge).map(
          (c) => `"nats-leaf://app:app@${topo.site(c).address}:${PORTS.leaf}"`,
        );
        await startNats(
          `nats-${edge}`,
          edge,
          [
            `server_name: "${edge}"`,
            `listen: "${a}:${PORTS.nats}"`,
            `http: "${a}:${PORTS.natsHttp}"`,
            `leafnodes {\n  reconnect: 1\n  remotes: [ { urls: [${urls.join(', ')}], no_randomize: true } ]\n}`,
            // JetStream in the region's own domain, as the Terraform and Kubernetes edge leaves run it: the
            // relays' flow cache (a KV bucket) lives here, so a restarted relay recovers its flows at once
            // instead of waiting for each client's next consent check.
            `jetstream {\n  domain: "edge-${edge}"\n  store_dir: "${join(dir, `js-${edge}`)}"\n  max_memory_store: 64MB\n  max_file_store: 64MB\n}`,
          ].join('\n'),
        );
      }),
    );

    // --- Parley ---
    const common = { PARLEY_TOKEN_KEYS: tokenKeys };
    const starting: Promise<void>[] = [];
    for (const core of topo.cores) {
      const a = topo.site(core).address;
      const spec = topo.file.cores[core]?.sim as { transceivers: number; capacity: number };
      for (let k = 1; k <= spec.transceivers; k++) {
        const id = `${core}-t${k}`;
        transceivers.push({ id, routeId: routeIdOf(id), core, cluster: clusterOfCore(core) });
        starting.push(
          startParley(`transceiver-${id}`, core, 'transceiver', {
            ...common,
            NATS_URL: `nats://${a}:${PORTS.nats}`,
            PARLEY_CLUSTER: clusterOfCore(core),
            PARLEY_REGION: core,
            PARLEY_TRANSCEIVER_ID: id,
            PARLEY_PRIVATE_ADDRESS: a,
            PARLEY_ICE_PORT: String(PORTS.ice + k),
            PARLEY_CAPACITY: String(spec.capacity),
            PARLEY_METRICS_PORT: String(9466 + 10 * k),
            PARLEY_DEFAULT_AGENT: 'echo',
          }),
        );
      }
    }
    for (const edge of topo.edges) {
      const a = topo.site(edge).address;
      const nats = `nats://${a}:${PORTS.nats}`;
      starting.push(
        startParley(`relay-${edge}`, edge, 'relay', {
          ...common,
          NATS_URL: nats,
          PARLEY_RELAY_HOST: '0.0.0.0',
          PARLEY_RELAY_PORT: String(PORTS.relay),
          PARLEY_RELAY_UPSTREAM_HOST: a,
          PARLEY_METRICS_PORT: '9465',
        }),
      );
      const ordered = coresByDistance(topo, edge);
      starting.push(
        startParley(`edge-${edge}`, edge, 'edge', {
          NATS_URL: nats,
          PARLEY_REGION: edge,
          PARLEY_CLUSTER: clusterOfCore(ordered[0] as string),
          PARLEY_CLUSTERS: ordered.map((c) => `${clusterOfCore(c)}:${topo.rttMs(edge, c)}`).join(','),
          PARLEY_CLUSTER_RTT_PROBE_MS: '1000',
          PARLEY_OFFER_TIMEOUT_MS: '3000',
          PARLEY_HTTP_HOST: a,
          PARLEY_HTTP_PORT: String(PORTS.http),
          PARLEY_RELAY_ADVERTISE: `${a}:${PORTS.relay}`,
          PARLEY_AUTH: 'jwt',
          PARLEY_AUTH_JWT_SECRET: jwtSecret,
          PARLEY_WEB_CLIENT: 'off',
          PARLEY_METRICS_PORT: '9464',
        }),
      );
    }
    // allSettled first: a failure must not leave siblings starting while stop() runs.
    const settled = await Promise.allSettled(starting);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (e) {
    await stop();
    await sweep(); // what was still being created while stop() ran
    throw e;
  }

  const delayCommand = (line: string) => delay?.stdin?.write(`${line}\n`);
  const byRoute = new Map(transceivers.map((t) => [t.routeId, t]));
  return {
    topo,
    prefix,
    transceivers,
    jwtSecret,
    nsOf,
    edgeUrl: (edge) => `http://${topo.site(edge).address}:${PORTS.http}`,
    relayAddress: (edge) => `${topo.site(edge).address}:${PORTS.relay}`,
    clusterOfCore,
    clusterOfSession: (s) => {
      const m = /([0-9a-f]{12})-[A-Za-z0-9_-]{22}/.exec(s);
      return m ? byRoute.get(m[1] as string)?.cluster : undefined;
    },
    async killCore(core) {
      const names = [...procs.keys()].filter(
        (n) => n === `nats-${core}` || n.startsWith(`transceiver-${core}-t`),
      );
      await Promise.all(
        names.map(async (n) => {
          const p = procs.get(n);
          procs.delete(n);
          if (p) await killProc(p.child, 'SIGKILL');
        }),
      );
    },
    natsMonitor: (site, path) =>
      new Promise((resolve, reject) => {
        const child = spawnIn(site, [
          'curl',
          '-s',
          '--max-time',
          '2',
          `http://${topo.site(site).address}:${PORTS.natsHttp}/${path}`,
        ]);
        let body = '';
        child.stdout?.on('data', (d: Buffer) => {
          body += d.toString();
        });
        child.once('exit', () => {
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(new NetnsError(`${site} /${path}: ${body.slice(0, 200)}`, { cause: e }));
          }
        });
      }),
    async killRelay(edge) {
      const p = procs.get(`relay-${edge}`);
      procs.delete(`relay-${edge}`);
      if (p) await killProc(p.child, 'SIGKILL');
    },
    async startRelay(edge) {
      const spec = envs.get(`relay-${edge}`);
      if (!spec) throw new NetnsError(`no relay in ${edge}`);
      await startParley(`relay-${edge}`, spec.site, 'relay', spec.env);
    },
    async cut(a, b) {
      delayCommand(`cut ${topo.site(a).index} ${topo.site(b).index}`);
    },
    async restore(a, b) {
      delayCommand(`restore ${topo.site(a).index} ${topo.site(b).index}`);
    },
    delayStats: () =>
      new Promise((resolve) => {
        const onData = (d: Buffer) => {
          const line = d
            .toString()
            .split('\n')
            .find((l) => l.includes('"stats"'));
          if (!line) return;
          delay?.stdout?.off('data', onData);
          resolve(JSON.parse(line) as Record<string, number>);
        };
        delay?.stdout?.on('data', onData);
        delayCommand('stats');
      }),
    spawnIn: (site, argv, env) => spawnIn(site, argv, env),
    stop,
  };
}

function pipe(child: ChildProcess, name: string, out: (line: string) => void): void {
  for (const stream of [child.stderr]) {
    let rest = '';
    stream?.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) out(`[${name}] ${l}`);
    });
  }
}

async function killProc(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 3_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}
