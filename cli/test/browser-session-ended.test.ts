import { readFileSync } from 'node:fs';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { descendantsOf } from '@parley/shared/testing/process-table.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';
import { type Chromium, launchChromium, screenshot, waitForCallState } from './browser-harness.js';
import { scrape } from './metrics-scrape.js';

/** The transceiver child of the dev stack, found by its command line (the stack does not expose pids). */
function transceiverPid(): number | undefined {
  return descendantsOf(process.pid).find((p) => {
    try {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.endsWith('main.js')) && argv.includes('transceiver');
    } catch {
      return false;
    }
  })?.pid;
}

// A call in real Chromium whose transceiver dies without a word (SIGKILL):
// the data channel goes silent with it, so only the edge's session event
// stream can tell the page, which must end the call with a clear message.
describe('browser voice client: the transceiver dies mid-call', () => {
  let stack: DevStack;
  let chromium: Chromium;

  beforeAll(async () => {
    const [httpPort, relayPort, icePort] = await Promise.all([freeTcpPort(), freeUdpPort(), freeUdpPort()]);
    [stack, chromium] = await Promise.all([
      startDevStack({
        httpPort,
        relayPort,
        icePort,
        readyTimeoutMs: 60_000,
        env: { PARLEY_LOG_LEVEL: 'warn', PARLEY_DEV_TOKEN_ENDPOINT: '1' },
      }),
      launchChromium(),
    ]);
  }, 200_000);

  afterAll(async () => {
    await chromium?.close();
    await stack?.stop();
  });

  it('shows "The voice server went away" within 6 s of the SIGKILL, from the edge’s session.ended', async () => {
    const page = await chromium.context.newPage();
    await page.goto(stack.edgeUrl);
    await page.click('#talk');
    await waitForCallState(page, 'connected');
    const pid = transceiverPid();
    expect(pid).toBeGreaterThan(0);
    const killedAt = performance.now();
    process.kill(pid as number, 'SIGKILL');
    try {
      await waitForCallState(page, 'failed', 8_000);
    } catch (err) {
      await screenshot(page, 'browser-session-ended');
      throw err;
    }
    const tookMs = performance.now() - killedAt;
    expect(await page.textContent('#error-title')).toBe('The voice server went away');
    expect(await page.textContent('#error-hint')).toContain('transceiver_lost');
    // Discovery forgets a transceiver 3.5 s after its last announcement, the edge checks every 250 ms.
    expect(tookMs).toBeLessThan(6_000);
    // The edge counts the end it announced, and the page's stream is gone.
    const edgeMetrics = stack.info.edge.metrics as string;
    expect(
      await scrape(edgeMetrics, 'parley_edge_sessions_ended_total', { reason: 'transceiver_lost' }),
    ).toBe(1);
    expect(await scrape(edgeMetrics, 'parley_edge_session_event_streams')).toBe(0);
    await page.close();
  });
});
