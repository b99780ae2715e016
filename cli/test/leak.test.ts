import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCall } from '@parley/loadtest/call/call-client.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';
import { scrape } from './metrics-scrape.js';

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
 * Memory is judged on the heap after a full GC (a preloaded probe,
 * support/gc-probe.cjs, runs one on SIGUSR2 and reports memoryUsage()): RSS
 * also holds whatever heap V8 grew and keeps, which moved 10-57 MiB over
 * the same 200 calls from run to run here, so RSS only gets a loose bound
 * that still catches a native leak of half a MiB a call.
 */
/** PARLEY_LEAK_CALLS runs more (a slow leak shows better over 2000); bounds that are per call scale with it. */
const CALLS = Number(process.env.PARLEY_LEAK_CALLS ?? 200);
const WARMUP_CALLS = 5;
/** Per process: a few descriptors may come and go (log rotation, a NATS reconnect timer, an HTTP keep-alive socket). */
const FD_SLACK = 6;
const SOCKET_SLACK = 3;
/** Heap + external after a full GC, per node process: 40 KiB a call (a session holds ~400 KiB). */
const HEAP_SLACK_BYTES = Math.max(8 * 1024 * 1024, CALLS * 40 * 1024);
/** RSS over 200 calls, per process (heap growth included). */
const RSS_SLACK_KIB = 96 * 1024;
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

const GC_PROBE = fileURLToPath(new URL('./support/gc-probe.cjs', import.meta.url));

interface AfterGc {
  /** heapUsed + external: what a leak of JS objects or Buffers grows. */
  heap: number;
  /** rss - heapTotal - external: native memory and code, what a leak in an addon grows. */
  native: number;
}

/** Memory of a node process that preloaded the probe, right after a full GC. */
async function afterGc(pid: number, dir: string): Promise<AfterGc> {
  const asked = Date.now();
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    try {
      const m = JSON.parse(readFileSync(join(dir, `${pid}.json`), 'utf8'));
      if (m.at >= asked) return { heap: m.heapUsed + m.external, native: m.rss - m.heapTotal - m.external };
    } catch {
      // not written yet
    }
  }
  throw new Error(`process ${pid} did not report its heap within 5 s`);
}

describe(`leak check: ${CALLS} sequential calls through the whole stack`, () => {
  let stack: DevStack;
  let pids: Record<Role, number>;
  const probeDir = mkdtempSync(join(tmpdir(), 'parley-leak-'));

  beforeAll(async () => {
    stack = await startDevStack({
      httpPort: await freeTcpPort(),
      relayPort: await freeUdpPort(),
      icePort: await freeUdpPort(),
      env: {
        PARLEY_LOG_LEVEL: 'warn',
        PARLEY_RELAY_IDLE_TIMEOUT_MS: '1000',
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${GC_PROBE}`.trim(),
        PARLEY_GC_PROBE_DIR: probeDir,
      },
    });
    pids = stackPids();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(probeDir, { recursive: true, force: true });
  });

  it(
    'returns descriptors, bound ports, RSS, handles and timers to the warmed-up baseline',
    async () => {
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
      const nodeRoles = roles.filter((r) => r !== 'nats');
      const baseHeap: Record<string, AfterGc> = {};
      for (const r of nodeRoles) baseHeap[r] = await afterGc(pids[r], probeDir);
      const baseResources = activeResources();
      const baseFds = selfFds();

      const started = performance.now();
      for (let i = 0; i < CALLS; i++) await call();
      const callsMs = performance.now() - started;

      // Let session ends, relay flow idle-out and closes finish, then compare.
      const clientSettled = () =>
        Object.entries(activeResources()).every(
          ([type, n]) => n <= (baseResources[type] ?? 0) + CLIENT_RESOURCE_SLACK,
        );
      const withinBounds = (u: Record<Role, Usage>) =>
        clientSettled() &&
        roles.every((r) => u[r].fds <= base[r].fds + FD_SLACK && u[r].boundPorts <= base[r].boundPorts);
      // What the processes say they hold: no session, no setup slot, no relay flow.
      const held = async () => ({
        sessions: await scrape(stack.info.transceiver.metrics as string, 'parley_transceiver_sessions'),
        setups: await scrape(stack.info.transceiver.metrics as string, 'parley_transceiver_setups'),
        flows: await scrape(stack.info.relay.metrics as string, 'parley_relay_flows_open'),
      });
      let after = Object.fromEntries(roles.map((r) => [r, usage(pids[r])])) as Record<Role, Usage>;
      let state = await held();
      const settleStart = performance.now();
      while (
        (!withinBounds(after) || state.sessions + state.setups + state.flows > 0) &&
        performance.now() - settleStart < SETTLE_MS
      ) {
        await sleep(250);
        after = Object.fromEntries(roles.map((r) => [r, usage(pids[r])])) as Record<Role, Usage>;
        state = await held();
      }
      const resources = activeResources();
      const heap: Record<string, AfterGc> = {};
      for (const r of nodeRoles) heap[r] = await afterGc(pids[r], probeDir);
      const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
      const report = roles.map(
        (r) =>
          `${r}: fds ${base[r].fds}->${after[r].fds}, sockets ${base[r].sockets}->${after[r].sockets}, ` +
          `bound ports ${base[r].boundPorts}->${after[r].boundPorts}, RSS ${(base[r].rssKiB / 1024).toFixed(1)}->${(after[r].rssKiB / 1024).toFixed(1)} MiB` +
          (r in heap
            ? `, after GC: heap ${mib((baseHeap[r] as AfterGc).heap)}->${mib((heap[r] as AfterGc).heap)} MiB, ` +
              `native ${mib((baseHeap[r] as AfterGc).native)}->${mib((heap[r] as AfterGc).native)} MiB`
            : ''),
      );
      console.log(
        `${CALLS} calls in ${(callsMs / 1000).toFixed(1)} s (${(callsMs / CALLS).toFixed(0)} ms each, first audio at ${(firstAudioMs / calls).toFixed(0)} ms), ` +
          `settled in ${((performance.now() - settleStart) / 1000).toFixed(1)} s\n${report.join('\n')}\n` +
          `held: ${JSON.stringify(state)}\n` +
          `client: fds ${baseFds}->${selfFds()}, resources ${JSON.stringify(baseResources)}->${JSON.stringify(resources)}`,
      );

      expect(state).toEqual({ sessions: 0, setups: 0, flows: 0 });
      for (const r of roles) {
        expect(after[r].fds, `${r} descriptors`).toBeLessThanOrEqual(base[r].fds + FD_SLACK);
        expect(after[r].sockets, `${r} sockets`).toBeLessThanOrEqual(base[r].sockets + SOCKET_SLACK);
        expect(after[r].boundPorts, `${r} bound ports`).toBeLessThanOrEqual(base[r].boundPorts);
        expect(after[r].rssKiB, `${r} RSS`).toBeLessThanOrEqual(base[r].rssKiB + RSS_SLACK_KIB);
      }
      for (const r of nodeRoles)
        expect((heap[r] as AfterGc).heap, `${r} heap after GC`).toBeLessThanOrEqual(
          (baseHeap[r] as AfterGc).heap + HEAP_SLACK_BYTES,
        );
      // The werift client side, in this process: every peer, socket and timer of a call is gone.
      expect(selfFds(), 'client descriptors').toBeLessThanOrEqual(baseFds + FD_SLACK);
      for (const [type, n] of Object.entries(resources)) {
        expect(n, `client active ${type}`).toBeLessThanOrEqual(
          (baseResources[type] ?? 0) + CLIENT_RESOURCE_SLACK,
        );
      }
    },
    Math.max(180_000, CALLS * 1_500),
  );
});
