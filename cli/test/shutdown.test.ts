import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { spawnTied } from '@parley/shared/lifecycle/spawn-tied.js';
import { encodeJson } from '@parley/shared/nats/codec.js';
import { offerSubject } from '@parley/shared/nats/subjects.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { descendantsOf, isRunning, waitUntilGone } from '@parley/shared/testing/process-table.js';
import { routeIdOf } from '@parley/shared/token/routing-token.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// Each production process, spawned as an operator would (the built CLI), is
// sent SIGTERM in each state with its dependency killed or frozen; the test
// measures the exit and then checks the process table, not the logs.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN_KEYS = `1:${randomBytes(32).toString('base64')}`;
const OFFER = readFileSync(
  new URL('../../edge/src/signaling/__fixtures__/werift-offer.sdp', import.meta.url),
  'utf8',
);

interface Proc {
  child: ChildProcess;
  pid: number;
  output: () => string;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const started: Proc[] = [];

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawnTied(
    process.execPath,
    [MAIN, ...args],
    { env: { ...process.env, PARLEY_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    'KILL',
  );
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/(^| )ready( |$)/m.test(out)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(({ code }) => reject(new Error(`${args[0]} exited (${code}) before ready:\n${out}`)));
  });
  ready.catch(() => undefined);
  const p: Proc = { child, pid: child.pid as number, output: () => out, ready, exited };
  started.push(p);
  return p;
}

/** SIGTERM, then how long until the process is gone from the process table (ms). */
async function terminate(p: Proc): Promise<{ ms: number; code: number | null }> {
  const t0 = performance.now();
  p.child.kill('SIGTERM');
  const { code, at } = await p.exited;
  expect(await waitUntilGone([p.pid], 1_000)).toEqual([]);
  console.log(`exit after SIGTERM: ${Math.round(at - t0)} ms (code ${code})`);
  return { ms: at - t0, code };
}

const edgeEnv = async (natsUrl: string) => ({
  NATS_URL: natsUrl,
  PARLEY_HTTP_HOST: '127.0.0.1',
  PARLEY_HTTP_PORT: String(await freeTcpPort()),
  PARLEY_METRICS_PORT: '0',
  PARLEY_RELAY_ADVERTISE: '127.0.0.1:3478',
  PARLEY_AUTH: 'off',
  PARLEY_WEB_CLIENT: 'off',
});
const relayEnv = async (natsUrl: string) => ({
  NATS_URL: natsUrl,
  PARLEY_TOKEN_KEYS: TOKEN_KEYS,
  PARLEY_RELAY_HOST: '127.0.0.1',
  PARLEY_RELAY_PORT: String(await freeUdpPort()),
  PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
  PARLEY_METRICS_PORT: '0',
});
const transceiverEnv = async (natsUrl: string) => ({
  NATS_URL: natsUrl,
  PARLEY_TOKEN_KEYS: TOKEN_KEYS,
  PARLEY_TRANSCEIVER_ID: `shutdown-${randomBytes(3).toString('hex')}`,
  PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
  PARLEY_ICE_PORT: String(await freeUdpPort()),
  PARLEY_METRICS_PORT: '0',
  PARLEY_DRAIN_TIMEOUT_MS: '1000',
});

// Stated stop times (README, Operations): edge 5 s, relay 3 s, transceiver drain + 5 s, each plus
// the 1 s telemetry flush; the assertions add 1 s for a busy 2-core machine.
const EDGE_MS = 7_000;
const RELAY_MS = 5_000;
const TRANSCEIVER_MS = 1_000 + 7_000;

// Starting processes on a loaded 2-core machine can take many seconds: the test limit is generous,
// the assertions carry the real bounds.
const TEST_MS = 90_000;

describe('bounded shutdown of the real processes', { timeout: TEST_MS }, () => {
  let nats: NatsServerProcess;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
  });
  afterEach(async () => {
    for (const p of started.splice(0)) if (isRunning(p.pid)) p.child.kill('SIGKILL');
    nats.pause(false);
    if (!nats.pid || !isRunning(nats.pid)) await nats.restart();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it.each([
    ['edge', edgeEnv, EDGE_MS],
    ['relay', relayEnv, RELAY_MS],
    ['transceiver', transceiverEnv, TRANSCEIVER_MS],
  ] as const)('%s: exits on SIGTERM while serving with NATS frozen (SIGSTOP)', async (name, env, limit) => {
    const p = run([name], await env(nats.url));
    await p.ready;
    nats.pause(true);
    const { ms, code } = await terminate(p);
    expect(ms).toBeLessThan(limit);
    expect(code).not.toBeNull();
    expect(p.output()).not.toMatch(/unhandled rejection|ignored during shutdown/i);
  });

  it.each([
    ['edge', edgeEnv, EDGE_MS],
    ['relay', relayEnv, RELAY_MS],
    ['transceiver', transceiverEnv, TRANSCEIVER_MS],
  ] as const)('%s: exits on SIGTERM while serving with NATS gone (killed)', async (name, env, limit) => {
    const p = run([name], await env(nats.url));
    await p.ready;
    await nats.stop();
    // Let the client notice and start reconnecting: the state an operator finds.
    await new Promise((r) => setTimeout(r, 500));
    const { ms } = await terminate(p);
    expect(ms).toBeLessThan(limit);
    expect(p.output()).not.toMatch(/unhandled rejection|ignored during shutdown/i);
  });

  it('transceiver: exits on SIGTERM while a session waits for an agent that never answers', async () => {
    // A TCP port that accepts and then says nothing: the gRPC agent's connect can only time out.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const agentPort = (silent.address() as AddressInfo).port;
      const env = await transceiverEnv(nats.url);
      const p = run(['transceiver'], {
        ...env,
        PARLEY_AGENT_GRPC_URL: `127.0.0.1:${agentPort}`,
        PARLEY_AGENT_CONNECT_TIMEOUT_MS: '60000',
      });
      await p.ready;
      const nc = await connect({ servers: nats.url });
      const offer = nc.request(
        offerSubject(env.PARLEY_TRANSCEIVER_ID),
        encodeJson({
          sessionId: `${routeIdOf(env.PARLEY_TRANSCEIVER_ID)}-${'a'.repeat(22)}`,
          offer: OFFER,
          relay: { ip: '127.0.0.1', port: 3478 },
          agent: 'grpc',
        }),
        { timeout: 20_000 },
      );
      offer.catch(() => undefined);
      // The offer is inside setup, waiting on the agent.
      await new Promise((r) => setTimeout(r, 1_000));
      const { ms } = await terminate(p);
      expect(ms).toBeLessThan(TRANSCEIVER_MS);
      expect(p.output()).not.toMatch(/unhandled rejection|ignored during shutdown/i);
      await nc.close();
    } finally {
      silent.close();
    }
  });

  it.each([
    ['edge', edgeEnv],
    ['relay', relayEnv],
    ['transceiver', transceiverEnv],
  ] as const)('%s: exits at once on SIGTERM while starting against a frozen NATS', async (name, env) => {
    nats.pause(true);
    const p = run([name], await env(nats.url));
    // Long enough for the process to be inside its NATS connect, which cannot finish.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(isRunning(p.pid)).toBe(true);
    const { ms } = await terminate(p);
    expect(ms).toBeLessThan(1_000);
  });

  it('a second SIGTERM exits at once while the first is still stopping', async () => {
    // A drain that would take 10 s: the transceiver waits for its sessions (none) and then
    // for NATS, which is frozen; the second signal must not wait for either.
    const p = run(['transceiver'], { ...(await transceiverEnv(nats.url)), PARLEY_DRAIN_TIMEOUT_MS: '10000' });
    await p.ready;
    nats.pause(true);
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(isRunning(p.pid)).toBe(true);
    const { ms, code } = await terminate(p);
    expect(ms).toBeLessThan(500);
    expect(code).toBe(1);
  });
});

describe('parley dev leaves nothing behind when it is killed', () => {
  const devArgs = async () => [
    'dev',
    '--port',
    String(await freeTcpPort()),
    '--relay-port',
    String(await freeUdpPort()),
    '--ice-port',
    String(await freeUdpPort()),
    '--quiet',
  ];
  // A SIGKILLed `parley dev` cannot remove its temporary directories (JetStream store, relay journal):
  // they go under one of this suite's, removed when it ends.
  const devTmp = mkdtempSync(join(tmpdir(), 'parley-shutdown-test-'));
  afterAll(() => rmSync(devTmp, { recursive: true, force: true }));
  const devEnv = { NATS_URL: '', PARLEY_LOG_LEVEL: 'warn', TMPDIR: devTmp };

  /** Waits until `parley dev` has at least `n` descendants, and returns them. */
  async function treeOf(pid: number, n: number, timeoutMs: number) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const tree = descendantsOf(pid);
      if (tree.length >= n || performance.now() > deadline) return tree;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // Children a test saw, reaped in afterEach even once `parley dev` is gone: its orphans are no longer
  // its descendants, and a SIGSTOPped nats-server would never act on the SIGTERM its tie sends.
  const seenChildren: number[] = [];

  afterEach(async () => {
    // Also on failure: nothing of the stack may outlive the test (the run's leak guard checks).
    for (const p of started.splice(0)) {
      const tree = descendantsOf(p.pid).map((r) => r.pid);
      if (isRunning(p.pid)) p.child.kill('SIGKILL');
      for (const pid of await waitUntilGone(tree, 10_000)) process.kill(pid, 'SIGKILL');
    }
    for (const pid of seenChildren.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  });

  it('SIGKILL after ready: nats-server, transceiver, relay and edge all exit', async () => {
    const p = run(await devArgs(), devEnv);
    await p.ready;
    const tree = descendantsOf(p.pid);
    // nats-server and three node services (their thread names vary, so count them).
    expect(tree.filter((r) => r.comm === 'nats-server')).toHaveLength(1);
    expect(tree).toHaveLength(4);
    p.child.kill('SIGKILL');
    expect(await waitUntilGone([p.pid], 1_000)).toEqual([]);
    // The services' own SIGTERM budgets (edge 5 s, relay 3 s, transceiver 3 + 5 s in dev) bound this.
    const t0 = performance.now();
    expect(
      await waitUntilGone(
        tree.map((r) => r.pid),
        10_000,
      ),
    ).toEqual([]);
    console.log(`dev children gone ${Math.round(performance.now() - t0)} ms after SIGKILL of parley dev`);
  }, 90_000);

  it('SIGTERM with its nats-server frozen: parley dev and every child are gone within 15 s', async () => {
    const p = run(await devArgs(), devEnv);
    await p.ready;
    const tree = descendantsOf(p.pid);
    seenChildren.push(...tree.map((r) => r.pid));
    const nats = tree.find((r) => r.comm === 'nats-server');
    expect(nats).toBeDefined();
    process.kill(nats?.pid as number, 'SIGSTOP');
    const { ms, code } = await terminate(p);
    // Edge first, then relay, transceiver and agent together, then NATS: each child gets SIGKILL after 5 s.
    // On failure, parley dev's own lines say which step it was in (or whether a child died first).
    expect(ms, p.output()).toBeLessThan(15_000);
    expect(
      await waitUntilGone(
        tree.map((r) => r.pid),
        1_000,
      ),
      `${JSON.stringify(tree)}\nexit code ${code} after ${Math.round(ms)} ms:\n${p.output()}`,
    ).toEqual([]);
  }, 90_000);

  it('SIGKILL mid-start (nats-server and the first service up, others not yet): all exit', async () => {
    const p = run(await devArgs(), devEnv);
    const tree = await treeOf(p.pid, 2, 15_000);
    expect(tree.map((r) => r.comm)).toContain('nats-server');
    expect(p.output()).not.toMatch(/^ready$/m);
    p.child.kill('SIGKILL');
    const seen = [...tree, ...descendantsOf(p.pid)].map((r) => r.pid);
    expect(await waitUntilGone([p.pid], 1_000)).toEqual([]);
    const t0 = performance.now();
    expect(await waitUntilGone(seen, 10_000)).toEqual([]);
    console.log(
      `mid-start: ${seen.length} children gone ${Math.round(performance.now() - t0)} ms after SIGKILL`,
    );
  });
});
