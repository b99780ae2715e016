import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { runCall } from '@parley/loadtest/call/call-client.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';

/**
 * Leak check: 200 sequential werift calls through the real local stack
 * (nats-server, transceiver, relay, edge as separate processes), then every
 * process must be back near where it was after a warm-up: file
 * descriptors, bound sockets, RSS, and in this process (the werift
 * client) the active handles and timers. A session, flow or peer that is
 * not torn down holds at least a descriptor, a socket or a timer, so 200 of
 * them stand far out of the bounds below.
 *
 * Calls are short (one 20 ms packet each way after setup, ~250 ms a call
 * with werift's fixed 100 ms DTLS wait) so 200 fit the time budget; the
 * count is what finds leaks, not the length.
 *
 * RSS is judged by its growth over the second 100 calls: V8 grows its heap
 * in steps and keeps what it grew, so growth from the baseline alone cannot
 * tell slack from a leak, while a leak keeps growing at the same rate.
 */
const CALLS = 200;
const WARMUP_CALLS = 5;
/** Per process: a few descriptors may come and go (log rotation, a NATS reconnect timer, an HTTP keep-alive socket). */
const FD_SLACK = 6;
const SOCKET_SLACK = 3;
/** Per process, over the second 100 calls: 64 KiB a call. Over all 200 (heap steps included): 48 MiB. */
const RSS_SECOND_HALF_SLACK_KIB = 100 * 64;
const RSS_TOTAL_SLACK_KIB = 48 * 1024;
/**
 * In this process, per resource type (Timeout, UDPWrap, ...): the last call's
 * peer may still be closing; one left per call would be 200.
 */
const CLIENT_RESOURCE_SLACK = 8;
/** How long teardown may take to settle after the last call (relay flows idle out after 1 s here). */
const SETTLE_MS = 10_000;

type Role = 'nats' | 'transceiver' | 'relay' | 'edge';

interface Usage {
  fds: number;
  sockets: number;
  /** UDP sockets and listening TCP sockets, by local port. */
  boundPorts: number;
  rssKiB: number;
}

/** Local ports of sockets by inode, from /proc/net (UDP: every socket; TCP: listeners only). */
function boundInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['udp', 'udp6', 'tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      // TCP state 0A is LISTEN; an accepted or outgoing connection is not a bound port.
      if (table.startsWith('tcp') && f[3] !== '0A') continue;
      inodes.add(f[9] as string);
    }
  }
  return inodes;
}

function usage(pid: number): Usage {
  const bound = boundInodes();
  let fds = 0;
  let sockets = 0;
  let boundPorts = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (!m) continue;
    sockets++;
    if (bound.has(m[1] as string)) boundPorts++;
  }
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { fds, sockets, boundPorts, rssKiB: Number(rss?.[1] ?? 0) };
}

/** The stack's processes: children of this test process, told apart by command line. */
function stackPids(): Record<Role, number> {
  const found: Partial<Record<Role, number>> = {};
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.endsWith('nats-server'))) found.nats = Number(name);
      for (const role of ['transceiver', 'relay', 'edge'] as const) {
        if (cmd.some((a) => a.endsWith('main.js')) && cmd.includes(role)) found[role] = Number(name);
      }
    } catch {
      // gone meanwhile
    }
  }
  for (const role of ['nats', 'transceiver', 'relay', 'edge'] as const) {
    if (found[role] === undefined) throw new Error(`no ${role} process among this test's children`);
  }
  return found as Record<Role, number>;
}

/** This process's active libuv resources by type (timers, sockets, ...), as Node reports them. */
function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

function selfFds(): number {
  return readdirSync('/proc/self/fd').length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('leak check: 200 sequential calls through the whole stack', () => {
  let stack: DevStack;
  let pids: Record<Role, number>;

  beforeAll(async () => {
    stack = await startDevStack({
      httpPort: await freeTcpPort(),
      relayPort: await freeUdpPort(),
      icePort: await freeUdpPort(),
      env: { PARLEY_LOG_LEVEL: 'warn', PARLEY_RELAY_IDLE_TIMEOUT_MS: '1000' },
    });
    pids = stackPids();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('returns descriptors, bound ports, RSS, handles and timers to the warmed-up baseline', async () => {
    let firstAudioMs = 0;
    let calls = 0;
    const call = async () => {
      const r = await runCall({
        edgeUrl: stack.edgeUrl,
        token: stack.token,
        seconds: 0.02,
        setupTimeoutMs: 10_000,
      });
      expect(r.packets.received).toBeGreaterThan(0);
      firstAudioMs += r.setupMs.firstAudio;
      calls++;
    };
    // Warm-up: JIT, werift's per-process caches, pools and lazily opened descriptors settle first.
    for (let i = 0; i < WARMUP_CALLS; i++) await call();
    await sleep(1_500);
    const roles = Object.keys(pids) as Role[];
    const base = Object.fromEntries(roles.map((r) => [r, usage(pids[r])])) as Record<Role, Usage>;
    const baseResources = activeResources();
    const baseFds = selfFds();

    const started = performance.now();
    let half: Record<Role, Usage> | undefined;
    for (let i = 0; i < CALLS; i++) {
      await call();
      if (i === CALLS / 2 - 1)
        half = Object.fromEntries(roles.map((r) => [r, usage(pids[r])])) as Record<Role, Usage>;
    }
    const callsMs = performance.now() - started;
    const mid = half as Record<Role, Usage>;

    // Let session ends, relay flow idle-out and closes finish, then compare.
    const clientSettled = () =>
      Object.entries(activeResources()).every(
        ([type, n]) => n <= (baseResources[type] ?? 0) + CLIENT_RESOURCE_SLACK,
      );
    const withinBounds = (u: Record<Role, Usage>) =>
      clientSettled() &&
      roles.every((r) => u[r].fds <= base[r].fds + FD_SLACK && u[r].boundPorts <= base[r].boundPorts);
    let after = Object.fromEntries(roles.map((r) => [r, usage(pids[r])])) as Record<Role, Usage>;
    const settleStart = performance.now();
    while (!withinBounds(after) && performance.now() - settleStart < SETTLE_MS) {
      await sleep(250);
      after = Object.fromEntries(roles.map((r) => [r, usage(pids[r])])) as Record<Role, Usage>;
    }
    const resources = activeResources();
    const report = roles.map(
      (r) =>
        `${r}: fds ${base[r].fds}->${after[r].fds}, sockets ${base[r].sockets}->${after[r].sockets}, ` +
        `bound ports ${base[r].boundPorts}->${after[r].boundPorts}, RSS ${(base[r].rssKiB / 1024).toFixed(1)}->${(mid[r].rssKiB / 1024).toFixed(1)}->${(after[r].rssKiB / 1024).toFixed(1)} MiB`,
    );
    console.log(
      `${CALLS} calls in ${(callsMs / 1000).toFixed(1)} s (${(callsMs / CALLS).toFixed(0)} ms each, first audio at ${(firstAudioMs / calls).toFixed(0)} ms), ` +
        `settled in ${((performance.now() - settleStart) / 1000).toFixed(1)} s\n${report.join('\n')}\n` +
        `client: fds ${baseFds}->${selfFds()}, resources ${JSON.stringify(baseResources)}->${JSON.stringify(resources)}`,
    );

    for (const r of roles) {
      expect(after[r].fds, `${r} descriptors`).toBeLessThanOrEqual(base[r].fds + FD_SLACK);
      expect(after[r].sockets, `${r} sockets`).toBeLessThanOrEqual(base[r].sockets + SOCKET_SLACK);
      expect(after[r].boundPorts, `${r} bound ports`).toBeLessThanOrEqual(base[r].boundPorts);
      expect(after[r].rssKiB, `${r} RSS over the second 100 calls`).toBeLessThanOrEqual(
        mid[r].rssKiB + RSS_SECOND_HALF_SLACK_KIB,
      );
      expect(after[r].rssKiB, `${r} RSS over 200 calls`).toBeLessThanOrEqual(
        base[r].rssKiB + RSS_TOTAL_SLACK_KIB,
      );
    }
    // The werift client side, in this process: every peer, socket and timer of a call is gone.
    expect(selfFds(), 'client descriptors').toBeLessThanOrEqual(baseFds + FD_SLACK);
    for (const [type, n] of Object.entries(resources)) {
      expect(n, `client active ${type}`).toBeLessThanOrEqual(
        (baseResources[type] ?? 0) + CLIENT_RESOURCE_SLACK,
      );
    }
  }, 180_000);
});
