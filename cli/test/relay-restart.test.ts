import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  alive,
  callAcross as callAcrossStack,
  type GapCallResult,
  killAndWait,
  measureGap,
  udpPortOwners,
} from '@parley/loadtest/call/relay-gap.js';
import { spawnTied } from '@parley/shared/lifecycle/spawn-tied.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';
import { scrape } from './metrics-scrape.js';

/** The relay's flow cache counters (parley_relay_flow_cache_total by event). */
async function cacheEvents(metricsUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const event of ['lookups', 'hits', 'recovered', 'superseded', 'rejected'])
    out[event] = await scrape(metricsUrl, 'parley_relay_flow_cache_total', { event });
  return out;
}

/**
 * Which path rebuilt the flow: the cache (the first datagram the new relay saw was SRTP), or
 * rarely (~1% of runs: a consent check every few seconds against a lookup of a few ms) a STUN
 * consent check that reached the new relay first; either way the media gap is measured.
 */
function expectCachePath(ev: Record<string, number>): 'cache' | 'stun' {
  expect(ev.rejected).toBe(0);
  if (ev.lookups === 0 || ev.superseded === 1) return 'stun';
  expect(ev.hits).toBeGreaterThanOrEqual(1);
  expect(ev.recovered).toBe(1);
  return 'cache';
}

/** A werift call through the dev stack, disrupted after 1.5 s (loadtest/src/call/relay-gap.ts). */
const callAcross = (stack: DevStack, disrupt: () => Promise<number>): Promise<GapCallResult> =>
  callAcrossStack({ edgeUrl: stack.edgeUrl, token: stack.token }, disrupt);
const measure = measureGap;

/** The whole stack with its relay on a shared port (`1`: SO_REUSEPORT siblings; `handover`: planned restarts). */
async function startSharedPortStack(reusePort: '1' | 'handover', logs: string[]): Promise<DevStack> {
  return startDevStack({
    httpPort: await freeTcpPort(),
    relayPort: await freeUdpPort(),
    icePort: await freeUdpPort(),
    output: (l) => logs.push(l),
    env: { PARLEY_LOG_LEVEL: 'info', PARLEY_RELAY_REUSE_PORT: reusePort },
  });
}

/** Stops a relay the test started beside the stack's own: SIGTERM, then SIGKILL after 5 s. */
async function stopExtraRelay(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  child.kill('SIGKILL');
}

// The whole stack as separate processes (built CLI, nats-server with JetStream). The relay
// process dies by SIGKILL mid-call and another relay process carries on on its port: either a
// new one started after the crash, or a sibling already running in the same SO_REUSEPORT group
// (the kernel's stand-in for a load balancer moving the client). The survivor finds the client's
// flow in the region's JetStream KV flow cache on its next SRTP packet; the transceiver moves the
// session to the new upstream address once that packet authenticates. No consent check is needed.
describe('relay SIGKILL mid-call through the full stack: the flow cache carries the call over', () => {
  let stack: DevStack;
  const logs: string[] = [];
  let sibling: ChildProcess | undefined;

  beforeAll(async () => {
    stack = await startSharedPortStack('1', logs);
  }, 60_000);

  afterAll(async () => {
    await stopExtraRelay(sibling);
    await stack?.stop();
  });

  it('restart: a new relay process on the same port forwards the call on its next SRTP packet', async () => {
    const txMetrics = stack.info.transceiver.metrics as string;
    const movesBefore = await scrape(txMetrics, 'parley_transceiver_srtp_address_moves_total');
    let killedAt = 0;
    const r = await callAcross(stack, async () => {
      const [pid] = udpPortOwners(stack.relay.port);
      expect(pid).toBeDefined();
      killedAt = performance.now();
      await killAndWait(pid as number);
      await stack.restart('relay'); // resolves once the new process is listening
      expect(udpPortOwners(stack.relay.port)).not.toContain(pid);
      return performance.now();
    });
    const m = measure(r, r.resumedAt);
    const path = expectCachePath(await cacheEvents(stack.info.relay.metrics as string));
    console.log(
      `relay restart (flow rebuilt via ${path}): killed -> listening ${Math.round(r.resumedAt - killedAt)} ms; ` +
        `listening -> first echo ${Math.round(m.recovery)} ms; longest media gap ${Math.round(m.gap)} ms; ` +
        `probes lost ${r.total - r.arrivals.size}/${r.total}, after recovery ${m.lostAfter}`,
    );
    // The recovery itself (what the flow cache controls); the rest of the gap is process start-up.
    // 30-160 ms here on a quiet machine (figures in ARCHITECTURE.md); the bound only tells the cache
    // path from the consent-check fallback (1.6-3 s) on a loaded one: speed targets live in benchmarks.
    expect(m.recovery).toBeLessThan(1_000);
    expect(m.lostAfter).toBe(0);
    // The new process read the call's flow from its local journal (PARLEY_RELAY_FLOW_JOURNAL, set by the
    // dev stack as the manifest's emptyDir is) when it started, before joining NATS.
    expect(logs.filter((l) => l.includes('relay flow journal open')).at(-1)).toMatch(/"recovered":[1-9]/);
    if (path === 'cache') {
      expect(logs.some((l) => l.includes('relay flow recovered from the flow cache'))).toBe(true);
      // The transceiver moved the session on an authenticated SRTP packet, not on STUN.
      expect(await scrape(txMetrics, 'parley_transceiver_srtp_address_moves_total')).toBeGreaterThan(
        movesBefore,
      );
    }
  }, 60_000);

  it('sibling: with a second relay already on the port (SO_REUSEPORT), a SIGKILL costs only the lookup', async () => {
    const [pid] = udpPortOwners(stack.relay.port);
    expect(pid).toBeDefined();
    // Same configuration as the stack's relay (read from the process: keys, NATS, bucket), own metrics port, no TCP.
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const siblingLogs: string[] = [];
    const siblingMetrics = await freeTcpPort();
    // Mid-call: the sibling joins the port's SO_REUSEPORT group (the kernel may move the client to
    // it at once: a load-balancer switch), then the original relay dies and every client lands on it.
    const r = await callAcross(stack, async () => {
      const child = spawnTied(
        argv[0] as string,
        argv.slice(1),
        {
          env: { ...env, PARLEY_METRICS_PORT: String(siblingMetrics), PARLEY_RELAY_TCP_PORT: '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
        'KILL',
      );
      sibling = child;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`sibling not ready: ${siblingLogs.join('')}`)),
          20_000,
        );
        const onData = (d: Buffer) => {
          siblingLogs.push(d.toString());
          if (siblingLogs.join('').includes('relay flow cache open')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', (c) => reject(new Error(`sibling exited ${c}: ${siblingLogs.join('')}`)));
      });
      child.removeAllListeners('exit');
      expect(udpPortOwners(stack.relay.port).sort()).toEqual([pid, child.pid].sort());
      await killAndWait(pid as number);
      return performance.now();
    });
    const m = measure(r, r.resumedAt);
    const path = expectCachePath(await cacheEvents(`http://127.0.0.1:${siblingMetrics}/metrics`));
    console.log(
      `relay sibling takeover (flow rebuilt via ${path}): longest media gap ${Math.round(m.gap)} ms; ` +
        `probes lost ${r.total - r.arrivals.size}/${r.total}, after the first echo past the kill ${m.lostAfter}`,
    );
    // 80-226 ms measured (ARCHITECTURE.md); as above, the bound separates it from the consent-check fallback.
    expect(m.gap).toBeLessThan(1_000);
    expect(m.lostAfter).toBe(0);
    // The call started on the original relay, so the sibling carried it on from the flow cache.
    if (path === 'cache') expect(siblingLogs.join('')).toContain('relay flow recovered from the flow cache');
  }, 60_000);
});

// A planned restart (PARLEY_RELAY_REUSE_PORT=handover): a second relay process with the same
// settings joins the port, receives the running relay's flow table over a local socket, builds
// every flow and steers the port's SO_REUSEPORT group to itself; the old process forwards what is
// still in flight and the transceiver's replies until quiet, then exits by itself. Nothing is lost.
describe('planned relay restart through the full stack (handover): no probe lost', () => {
  let stack: DevStack;
  const logs: string[] = [];
  let successor: ChildProcess | undefined;

  beforeAll(async () => {
    stack = await startSharedPortStack('handover', logs);
  }, 60_000);

  afterAll(async () => {
    await stopExtraRelay(successor);
    await stack?.stop();
  });

  it('the old relay hands its flows and the port to the new one mid-call and exits; every probe is echoed', async () => {
    const [pid] = udpPortOwners(stack.relay.port);
    expect(pid).toBeDefined();
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const successorLogs: string[] = [];
    let tookOverAt = 0;
    let oldGoneAt = 0;
    // 8 s of probes: the takeover (process start) and the old relay's drain both fall inside the call.
    const r = await callAcrossStack({ edgeUrl: stack.edgeUrl, token: stack.token, total: 400 }, async () => {
      const child = spawnTied(
        argv[0] as string,
        argv.slice(1),
        {
          env: { ...env, PARLEY_METRICS_PORT: String(await freeTcpPort()), PARLEY_RELAY_TCP_PORT: '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
        'KILL',
      );
      successor = child;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`successor did not take over: ${successorLogs.join('')}`)),
          20_000,
        );
        const onData = (d: Buffer) => {
          successorLogs.push(d.toString());
          if (successorLogs.join('').includes('relay handover: took the port over')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', (c) => reject(new Error(`successor exited ${c}: ${successorLogs.join('')}`)));
      });
      child.removeAllListeners('exit');
      tookOverAt = performance.now();
      // The old relay drains (quiet for 1 s by default) and stops by itself: no signal from here.
      const deadline = Date.now() + 15_000;
      while (alive(pid as number) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(alive(pid as number)).toBe(false);
      oldGoneAt = performance.now();
      expect(udpPortOwners(stack.relay.port)).toEqual([child.pid]);
      return performance.now();
    });
    const lost = r.total - r.arrivals.size;
    const m = measure(r, tookOverAt);
    console.log(
      `relay planned handover: old relay gone ${Math.round(oldGoneAt - tookOverAt)} ms after the takeover; ` +
        `longest media gap ${Math.round(m.gap)} ms; probes lost ${lost}/${r.total}`,
    );
    expect(successorLogs.join('')).toMatch(/"flowsOpened":[1-9]/);
    expect(logs.some((l) => l.includes('relay handover: successor steered the port; draining'))).toBe(true);
    expect(lost).toBe(0);
    // Probes kept flowing through the new relay after the old one was gone.
    expect([...r.arrivals.values()].some((t) => t > oldGoneAt)).toBe(true);
  }, 60_000);
});
