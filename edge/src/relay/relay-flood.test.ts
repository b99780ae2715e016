import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { encodeToken, makeKeyring, routeIdOf, tokenId } from '@parley/shared/token/routing-token.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteTarget } from './first-packet.js';
import { type FlowSummary, type Relay, startRelay } from './relay.js';
import { DROP_REASONS } from './relay-counters.js';
import type { FloodPlan, FloodResult } from './testing/flood-sender.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

/**
 * Issue 12's fd exhaustion at the issue's own scale: Binding Requests from
 * 25,000 source addresses at 5,000/s, one routing token replayed from
 * 24,000 distinct IPs of 127.0.0.0/8 and 1,000 sessions' tokens from one
 * shared IP, against a relay with its production defaults except the per-IP
 * cap (64 here instead of 512, so the cap is reached in 5 s without 512
 * live echo flows). Before the fix the relay opened one upstream socket per
 * source and hit its 20,000-fd limit; now each token holds at most 8 flows
 * and each IP at most its cap, every refused datagram is counted by reason,
 * and a new call connects the moment the flood ends.
 *
 * The flood comes from its own process (testing/flood-sender.ts), so this
 * process's descriptor table holds the relay, its stand-in transceiver and
 * the test's own sockets, and nothing of the sender's.
 */
const log = createLogger('relay-flood-test', 'silent');
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
const R1 = routeIdOf('tx-1');
const SOURCES = 25_000;
const PER_SECOND = 5_000;
/** One datagram in SHARED_EVERY leaves from the shared IP: 1,000 of the 25,000. */
const SHARED_EVERY = 25;
const SHARED_IP = '127.21.0.1';
const PER_TOKEN = 8;
const PER_IP = 64;
/** Descriptors the test adds besides flows (the legitimate client, /proc reads, timers): generous. */
const FD_SLACK = 24;
const SENDER = fileURLToPath(new URL('./testing/flood-sender.ts', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const token = () => encodeToken(keyring, { routeId: R1, expiresAt: Math.floor(Date.now() / 1000) + 600 });
const check = (tok: string, client: string) =>
  buildBindingRequest({ username: `${tok}:${client}`, password: 'x'.repeat(22) });

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** The kernel's drop count on a loopback UDP socket (receive buffer full), from /proc/net/udp. */
function kernelDrops(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return Number(cols[cols.length - 1]);
  }
  throw new Error(`no UDP socket on 127.0.0.1:${port} in /proc/net/udp`);
}

/** Runs the flood sender to completion; kills it if it outlives its own deadline. */
function flood(plan: FloodPlan): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SENDER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), plan.deadlineMs + 5_000);
    cleanups.push(async () => {
      clearTimeout(killer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      if (code === 0) resolve(JSON.parse(out) as FloodResult);
      else reject(new Error(`flood sender exited ${code ?? signal}: ${err}`));
    });
    child.stdin.end(JSON.stringify(plan));
  });
}

async function until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not in ${timeoutMs} ms: ${what()}`);
    await sleep(20);
  }
}

describe('relay: a replayed token from 25,000 source addresses at 5,000/s', () => {
  it('keeps its descriptors bounded, flows at the per-token and per-IP caps, drops counted, and a new call connects', async () => {
    const tx = await UdpPeer.bind('127.0.0.1', 0, 4 * 1024 * 1024);
    cleanups.push(() => tx.close());
    tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);
    const routes = new Map<string, RouteTarget>([[R1, { address: '127.0.0.1', port: tx.port }]]);
    const port = await freeUdpPort();
    const ended: FlowSummary[] = [];
    const relay: Relay = await startRelay({
      host: '127.0.0.1',
      port,
      upstreamHost: '127.0.0.1',
      keyring,
      resolveRoute: (id) => routes.get(id),
      log,
      maxFlowsPerToken: PER_TOKEN,
      maxFlowsPerIp: PER_IP,
      onFlowEnd: (s) => ended.push(s),
    });
    cleanups.push(() => relay.close());
    // The legitimate caller's socket exists before the baseline, so it is not counted as growth.
    const client = await UdpPeer.bind('127.0.0.1');
    cleanups.push(() => client.close());

    const replayedToken = token();
    const shared = Array.from({ length: SOURCES / SHARED_EVERY }, (_, i) =>
      check(token(), `S${i}`).toString('hex'),
    );
    const baseline = openFds();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, openFds());
    }, 25);
    cleanups.push(async () => clearInterval(sampler));

    const sent = await flood({
      port,
      count: SOURCES,
      perSecond: PER_SECOND,
      baseIp: [20, 0, 0],
      replayed: check(replayedToken, 'Flood').toString('hex'),
      sharedEvery: SHARED_EVERY,
      sharedIp: SHARED_IP,
      // Below Linux's ephemeral range (32768-60999), so no kernel-chosen port is in the way.
      sharedBasePort: 20_000,
      shared,
      deadlineMs: 15_000,
    });
    expect(sent).toMatchObject({ sent: SOURCES, sendErrors: 0, distinctIps: SOURCES - shared.length + 1 });
    // The rate, give or take the sender's 10 ms steps on a busy machine.
    expect(sent.elapsedMs).toBeLessThan(10_000);

    // Every datagram that reached the relay's socket opened a flow or was dropped for a counted reason.
    const handled = () => relay.counters.flowsOpened + relay.counters.snapshot().droppedPackets;
    await until(
      () => handled() + kernelDrops(port) >= SOURCES,
      5_000,
      () =>
        `handled ${handled()}, kernel drops ${kernelDrops(port)}: ${JSON.stringify(relay.counters.snapshot())}`,
    );
    clearInterval(sampler);
    peak = Math.max(peak, openFds());
    const snap = relay.counters.snapshot();
    expect(handled() + kernelDrops(port)).toBe(SOURCES);
    expect(kernelDrops(port)).toBeLessThan(SOURCES / 100);

    // Descriptors: one upstream socket per flow, so never more than the two caps' worth.
    expect(peak - baseline).toBeLessThanOrEqual(PER_TOKEN + PER_IP + FD_SLACK);
    expect(relay.flows).toBe(PER_TOKEN + PER_IP);
    expect(snap.socketErrors).toBe(0);
    expect(snap.flowsRerouted).toBe(0);
    expect(snap.drops.upstream_bind_failed).toBe(0);
    // Refusals by reason: the replayed token at its cap, the shared IP at its cap or its rate limit.
    const expected = new Set(['token_flow_limit', 'ip_flow_limit', 'rate_limited']);
    for (const r of DROP_REASONS) if (!expected.has(r)) expect(snap.drops[r], r).toBe(0);
    // Each replayed datagram opened one of the token's flows (its first 8, or one evicting an unanswered
    // sibling) or was refused; each shared-IP one opened one of the IP's flows or was refused.
    const lost = kernelDrops(port);
    const replayedRefused = SOURCES - shared.length - PER_TOKEN - snap.flowsEvicted;
    expect(snap.drops.token_flow_limit).toBeLessThanOrEqual(replayedRefused);
    expect(snap.drops.token_flow_limit).toBeGreaterThanOrEqual(replayedRefused - lost);
    expect(snap.drops.ip_flow_limit).toBeGreaterThan(0);
    const sharedRefused = snap.drops.ip_flow_limit + snap.drops.rate_limited;
    expect(sharedRefused).toBeLessThanOrEqual(shared.length - PER_IP);
    expect(sharedRefused).toBeGreaterThanOrEqual(shared.length - PER_IP - lost);

    // A fresh legitimate call right after the flood: its first check is forwarded and answered.
    const mine = check(token(), 'Mine');
    await client.send(mine, port);
    const [reply] = await client.waitFor(1);
    expect(reply?.msg.equals(mine)).toBe(true);
    expect(relay.flows).toBe(PER_TOKEN + PER_IP + 1);

    // Exactly PER_TOKEN of the flows belong to the replayed token: revoking it closes those and no more.
    expect(relay.revoke(replayedToken)).toBe(true);
    const revoked = ended.filter((s) => s.reason === 'revoked');
    expect(revoked).toHaveLength(PER_TOKEN);
    expect(new Set(revoked.map((s) => s.session))).toEqual(new Set([tokenId(replayedToken)]));
    // What is left is the shared IP at its cap, plus the new call.
    expect(relay.flows).toBe(PER_IP + 1);
    await until(
      () => openFds() <= baseline + PER_IP + 1 + FD_SLACK,
      2_000,
      () => `fds ${openFds()}, baseline ${baseline}`,
    );
  }, 30_000);
});
