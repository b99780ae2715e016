import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, placeSession, startHarness } from './support/call-harness.js';

/**
 * Setup latency regression (issue 9): Chromium, told by the answer's
 * session-level `a=ice-lite` that the transceiver is ICE-lite, nominates
 * only on a later check (~50 ms after the first), but sends its ClientHello
 * as soon as its first check is answered. werift's ICE-lite agent started
 * DTLS only at the nomination, so that ClientHello was dropped and the
 * handshake waited for Chromium's DTLS retransmit timer: 60-70 ms more per
 * call. The transceiver must answer the first ClientHello: a session that
 * counts more than one (a retransmission) has regressed.
 */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Page side, as strings (this package compiles without DOM types). */
const MAKE_OFFER = `(async () => {
  const pc = new RTCPeerConnection();
  window.__pc = pc;
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
})()`;

const CONNECT = (answer: string) => `(async () => {
  const pc = window.__pc;
  const connected = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection ' + pc.connectionState + ' after 10 s')), 10000);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') { clearTimeout(timer); resolve(); }
      else if (pc.connectionState === 'failed') { clearTimeout(timer); reject(new Error('connection failed')); }
    };
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} });
  await connected;
})()`;

const HANG_UP = '(() => { window.__pc?.close(); window.__pc = undefined; })()';

describe('Chromium against the ICE-lite transceiver', () => {
  let h: Harness | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    page = await browser.newPage();
  }, 30_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await h?.close();
  });

  /** One call straight to the transceiver's port (no relay: the cause is between Chromium and werift). */
  async function call(harness: Harness, n: number) {
    const offer = (await page.evaluate(MAKE_OFFER)) as string;
    const sessionId = `${harness.tx.routeId}-${`chromium${n}`.padEnd(22, 'x')}`;
    const answer = await placeSession(harness, {
      sessionId,
      offer,
      relay: { ip: '127.0.0.1', port: harness.tx.mux.port },
      agent: 'rtp-echo',
    });
    try {
      await page.evaluate(CONNECT(answer));
      const session = harness.tx.sessions.get(sessionId);
      return { answer, dtls: { ...session?.dtlsIntake } };
    } finally {
      await page.evaluate(HANG_UP);
      await harness.tx.sessions.close(sessionId);
    }
  }

  it('answers Chromium’s first ClientHello, with no retransmission needed', async () => {
    const harness = h as Harness;
    // The first call warms up JIT and werift's certificate; it must connect too.
    await call(harness, 0);
    for (let n = 1; n <= 3; n++) {
      const { answer, dtls } = await call(harness, n);
      // The condition that delays Chromium's nomination: ice-lite at session level (before the first m=).
      expect(answer.slice(0, answer.indexOf('\nm='))).toMatch(/^a=ice-lite\r?$/m);
      // Exactly one first flight: the one Chromium sent when its first check was answered.
      expect(dtls).toMatchObject({ clientHellos: 1, heldDropped: 0 });
    }
  });
});
