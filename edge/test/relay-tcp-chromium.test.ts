import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpRelayStack, type TcpRelayStack } from './tcp-relay-stack.js';

/**
 * Issue 11's target proof for ICE-TCP: headless Chromium in a network
 * namespace whose UDP is dropped by nftables reaches the relay only over
 * TCP, connects through the relay's ICE-TCP port to a real transceiver, and
 * gets its audio echoed. The namespace, its veth pair and its rules are
 * created here and always deleted (we run as root).
 */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const NS = `prly-tcp-${process.pid}`;
const VETH_HOST = `pt${process.pid % 100_000}h`;
const VETH_NS = `pt${process.pid % 100_000}n`;
const NET = `10.231.${process.pid % 250}`;
const HOST_IP = `${NET}.1`;
const NS_IP = `${NET}.2`;
const WRAPPER = join(tmpdir(), `${NS}-chromium.sh`);

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const inNs = (...args: string[]) => execFileSync('ip', ['netns', 'exec', NS, ...args], { stdio: 'pipe' });

function createNamespace(): void {
  ip('netns', 'add', NS);
  ip('link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS);
  ip('link', 'set', VETH_NS, 'netns', NS);
  ip('addr', 'add', `${HOST_IP}/30`, 'dev', VETH_HOST);
  ip('link', 'set', VETH_HOST, 'up');
  inNs('ip', 'addr', 'add', `${NS_IP}/30`, 'dev', VETH_NS);
  inNs('ip', 'link', 'set', VETH_NS, 'up');
  inNs('ip', 'link', 'set', 'lo', 'up');
  // Every UDP datagram leaving or entering the namespace (other than on its loopback) is dropped: a UDP-blocking firewall.
  execFileSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], {
    input: `table inet parley_block_udp {
      chain out { type filter hook output priority 0; policy accept; oifname "lo" accept; meta l4proto udp counter drop; }
      chain in { type filter hook input priority 0; policy accept; iifname "lo" accept; meta l4proto udp counter drop; }
    }`,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function deleteNamespace(): void {
  // Deleting the namespace deletes its veth end, which takes the host end with it.
  try {
    ip('netns', 'del', NS);
  } catch {}
  try {
    ip('link', 'del', VETH_HOST);
  } catch {}
  rmSync(WRAPPER, { force: true });
}

const BROWSER_CALL = `
      const pc = new RTCPeerConnection();
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      for (const t of stream.getTracks()) pc.addTrack(t, stream);
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 3_000);
      });
      const res = await fetch('/v1/sessions?agent=rtp-echo', {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: pc.localDescription.sdp,
      });
      const answer = await res.text();
      if (res.status !== 201) return { status: res.status, answer };
      const t0 = performance.now();
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(\`connection \${pc.connectionState}\`)), 20_000);
        pc.onconnectionstatechange = () => {
          if (pc.connectionState === 'connected') {
            clearTimeout(timer);
            resolve();
          } else if (pc.connectionState === 'failed') {
            clearTimeout(timer);
            reject(new Error('connection failed'));
          }
        };
      });
      const connectedMs = performance.now() - t0;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const stats = await pc.getStats();
      let remote;
      let received = 0;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          const pair = stats.get(s.selectedCandidatePairId);
          remote = pair && stats.get(pair.remoteCandidateId);
        }
        if (s.type === 'inbound-rtp' && s.kind === 'audio') received = s.packetsReceived;
      });
      pc.close();
      return { status: res.status, answer, connectedMs, remote, received };
    `;

function udpDropped(): number {
  const out = inNs('nft', 'list', 'chain', 'inet', 'parley_block_udp', 'out').toString();
  return Number(/counter packets (\d+)/.exec(out)?.[1] ?? 0);
}

describe('Chromium with UDP blocked connects over ICE-TCP through the relay', () => {
  let stack: TcpRelayStack | undefined;
  let relay: TcpRelayStack['relay'] | undefined;
  let edge: TcpRelayStack['edge'] | undefined;
  let browser: Browser | undefined;
  let tcpPort = 0;

  beforeAll(async () => {
    deleteNamespace(); // a leftover from a killed run of this pid
    createNamespace();
    stack = await startTcpRelayStack({
      host: HOST_IP,
      readyWithinMs: 10_000,
      edgeEnv: { PARLEY_WEB_CLIENT: 'off' },
    });
    ({ relay, edge, tcpPort } = stack);
    // Chromium runs inside the namespace; playwright talks to it over the inherited pipe.
    writeFileSync(WRAPPER, `#!/bin/sh\nexec ip netns exec ${NS} ${CHROMIUM} "$@"\n`);
    chmodSync(WRAPPER, 0o755);
    browser = await chromium.launch({
      executablePath: WRAPPER,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-quic',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        // The edge listens on the veth address over plain HTTP; getUserMedia wants a secure origin.
        `--unsafely-treat-insecure-origin-as-secure=http://${HOST_IP}:${new URL(edge.url).port}`,
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stack?.close();
    deleteNamespace();
    // Gone from the kernel, not only from our bookkeeping.
    expect(ip('netns', 'list').toString()).not.toContain(NS);
  });

  it('gets its audio echoed over TCP, with UDP dropped by the firewall', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(`http://${HOST_IP}:${new URL((edge as TcpRelayStack['edge']).url).port}/livez`);
    // Runs in the page (a string, so this file needs no DOM types): one call with the fake microphone.
    const r = (await page.evaluate(`(async () => {${BROWSER_CALL}})()`)) as {
      status: number;
      answer: string;
      connectedMs?: number;
      remote?: { protocol?: string; address?: string; port?: number };
      received?: number;
    };
    expect(r.status).toBe(201);
    expect(r.remote).toMatchObject({ protocol: 'tcp', address: HOST_IP, port: tcpPort });
    // ~50 packets/s for 2 s came back through the relay's TCP port.
    expect(r.received).toBeGreaterThan(50);
    expect(relay?.relay.tcpCounters.established).toBeGreaterThanOrEqual(1);
    // Chromium did try UDP (its checks to the UDP candidate), and the firewall dropped them.
    expect(udpDropped()).toBeGreaterThan(0);
    expect(relay?.relay.counters.drops.stun_malformed ?? 0).toBe(0);
    console.log(
      `chromium over ICE-TCP: connected ${Math.round(r.connectedMs ?? 0)} ms after the answer, ${r.received} echoed packets in 2 s`,
    );
  });
});
