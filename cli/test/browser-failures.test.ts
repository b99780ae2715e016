import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadyMessage } from '../src/service-runner.js';
import {
  type Chromium,
  collectErrors,
  launchChromium,
  screenshot,
  waitForCallState,
} from './browser-harness.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

// The failures people hit, each made real: an edge with no transceivers
// (503), a bad token (401), a relay address where UDP goes nowhere (ICE),
// no microphone, microphone permission refused, and an edge process that
// died. Edge and transceiver are the built CLI's processes, as in production.
describe('browser voice client in headless Chromium: failures end in a clear message', () => {
  let nats: NatsServerProcess;
  let edge: ChildProcess;
  let edgeUrl: string;
  let chromium: Chromium;
  let blackHole: Socket;
  let stunAtBlackHole = 0;
  let transceiver: ChildProcess | undefined;

  beforeAll(async () => {
    // Swallows whatever arrives, like a firewall that drops UDP to the relay.
    blackHole = createSocket('udp4');
    blackHole.on('message', () => stunAtBlackHole++);
    await new Promise<void>((r) => blackHole.bind(0, '127.0.0.1', r));
    [nats, chromium] = await Promise.all([NatsServerProcess.start(), launchChromium()]);
    const httpPort = await freeTcpPort();
    edgeUrl = `http://127.0.0.1:${httpPort}`;
    edge = await startService('edge', {
      NATS_URL: nats.url,
      PARLEY_HTTP_HOST: '127.0.0.1',
      PARLEY_HTTP_PORT: String(httpPort),
      PARLEY_RELAY_ADVERTISE: `127.0.0.1:${blackHole.address().port}`,
      PARLEY_AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
      PARLEY_DEV_TOKEN_ENDPOINT: '1',
    });
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    for (const child of [edge, transceiver]) await stopService(child);
    await nats?.stop();
    blackHole?.close();
  });

  async function talkUntilFailed(page: Page, timeoutMs = 15_000): Promise<{ title: string; hint: string }> {
    await page.click('#talk');
    await waitForCallState(page, 'failed', timeoutMs);
    expect(await page.isVisible('#error')).toBe(true);
    return {
      title: (await page.textContent('#error-title')) ?? '',
      hint: (await page.textContent('#error-hint')) ?? '',
    };
  }

  it('503 from the edge (no transceivers): shows its detail and when to retry', async () => {
    const page = await chromium.context.newPage();
    const errors = collectErrors(page);
    await page.goto(edgeUrl);
    const shown = await talkUntilFailed(page);
    expect(shown.title).toBe('No voice capacity right now');
    expect(shown.hint).toMatch(/^No transceivers in (cluster )?"local"\. Try again in 5 s\.$/);
    expect(await page.textContent('#status-pill')).toBe('Not connected');
    expect(await page.textContent('#talk-label')).toBe('Talk');
    await screenshot(page, 'browser-error-503.png');
    // The browser logs the failed POST itself; nothing else may go wrong.
    expect(errors.filter((e) => !e.includes('status of 503'))).toEqual([]);
    await page.close();
  });

  it('401 from the edge: shows why the token was refused, and takes ?token= out of the address bar', async () => {
    const page = await chromium.context.newPage();
    await page.goto(`${edgeUrl}/?token=not-a-jwt&agent=echo`);
    expect(new URL(page.url()).search).toBe('?agent=echo');
    const shown = await talkUntilFailed(page);
    expect(shown.title).toBe('The edge refused the token');
    expect(shown.hint).toContain('Token is malformed.');
    // The token panel opens so the person can paste a good one.
    expect(await page.getAttribute('#token-panel', 'open')).not.toBeNull();
    await page.close();
  });

  it('ICE failure (UDP to the relay dropped): says the relay cannot be reached, and frees the session', async () => {
    const icePort = await freeUdpPort();
    transceiver = await startService('transceiver', {
      NATS_URL: nats.url,
      PARLEY_TOKEN_KEYS: `1:${randomBytes(32).toString('base64')}`,
      PARLEY_TRANSCEIVER_ID: 'browser-failures-1',
      PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
      PARLEY_ICE_PORT: String(icePort),
    });
    // The edge learns of it from its next announcement.
    await expect.poll(async () => (await fetch(`${edgeUrl}/healthz`)).status, { timeout: 5_000 }).toBe(200);

    const page = await chromium.context.newPage();
    await page.goto(edgeUrl);
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE', { timeout: 15_000 });
    const shown = await talkUntilFailed(page);
    expect(shown.title).toBe('Could not reach the relay');
    expect(shown.hint).toContain(`the relay at 127.0.0.1:${blackHole.address().port}`);
    // Chromium did try the relay address from the answer, and the page released the session.
    expect(stunAtBlackHole).toBeGreaterThan(0);
    expect((await deleted).status()).toBe(200);
    await page.close();
  }, 30_000);

  it('no microphone, then microphone blocked: each gets its own message', async () => {
    // Neither fake devices nor an auto-accepting prompt: a machine without audio hardware.
    const bare = await launchChromium({ media: 'none' });
    try {
      const page = await bare.context.newPage();
      await page.goto(edgeUrl);
      expect((await talkUntilFailed(page)).title).toBe('No microphone found');
    } finally {
      await bare.close();
    }
    // A fake microphone, but the permission prompt is dismissed, as headless Chromium does with prompts.
    const prompting = await launchChromium({ media: 'device-only' });
    try {
      const page = await prompting.context.newPage();
      await page.goto(edgeUrl);
      expect((await talkUntilFailed(page)).title).toBe('Microphone access is blocked');
    } finally {
      await prompting.close();
    }
  });

  it('edge process gone after the page loaded: says it cannot reach the edge instead of hanging', async () => {
    const page = await chromium.context.newPage();
    await page.goto(edgeUrl);
    // As if it crashed: no graceful close, its sockets just go away.
    await stopService(edge, 'SIGKILL');
    const shown = await talkUntilFailed(page);
    expect(shown.title).toBe('Cannot reach the Parley edge');
    expect(shown.hint).toContain(edgeUrl);
    await page.close();
  });
});

/** One real process from the built CLI, as `parley dev` runs it; resolves when it reports ready. */
async function startService(
  name: 'edge' | 'transceiver',
  env: Record<string, string>,
): Promise<ChildProcess> {
  const child = fork(MAIN, [name], {
    env: {
      ...process.env,
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_METRICS_PORT: String(await freeTcpPort()),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Not the test runner's flags: its loader conditions would point the child at src/.
    execArgv: [],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m: ReadyMessage) =>
      m.type === 'ready' ? resolve() : reject(new Error(`${name}: ${m}`)),
    );
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr.slice(-500)}`)));
  });
  child.removeAllListeners('exit');
  return child;
}

async function stopService(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}
