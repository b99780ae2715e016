import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import {
  type SessionInfoReply as Info,
  SessionInfoReply,
  TransceiverAnnounce,
} from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT, sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';
import {
  browserStats,
  type Chromium,
  collectErrors,
  launchChromium,
  median,
  readWaterfall,
  screenshot,
  statsOnceNominated,
  waitForCallState,
} from './browser-harness.js';
import { scrape } from './metrics-scrape.js';

// More runs by hand for steadier medians: BROWSER_CONNECT_RUNS=20 npx vitest run cli/test/browser-call.test.ts
const CONNECT_RUNS = Math.min(50, Math.max(5, Number(process.env.BROWSER_CONNECT_RUNS) || 5));

// The page served by the real edge (built CLI), driven by real headless
// Chromium through the real relay to the real transceiver's echo agent.
describe('browser voice client in headless Chromium, through the local stack', () => {
  let stack: DevStack;
  let nc: NatsConnection;
  let chromium: Chromium;
  const logs: string[] = [];

  beforeAll(async () => {
    const [httpPort, relayPort, icePort] = await Promise.all([freeTcpPort(), freeUdpPort(), freeUdpPort()]);
    [stack, chromium] = await Promise.all([
      startDevStack({
        httpPort,
        relayPort,
        icePort,
        output: (l) => logs.push(l),
        // A busy 2-core machine can take more than the default 20 s to start a service.
        readyTimeoutMs: 60_000,
        // info: the transceiver logs why each session closed, which the hang-up tests read.
        env: { PARLEY_LOG_LEVEL: 'info', PARLEY_DEV_TOKEN_ENDPOINT: '1' },
      }),
      launchChromium(),
    ]);
    nc = await connect({ servers: stack.natsUrl });
  }, 200_000);

  afterAll(async () => {
    await chromium?.close();
    await nc?.close();
    await stack?.stop();
  });

  // A test that failed mid-call still hangs up (pagehide), so the next one starts from zero sessions.
  afterEach(async () => {
    for (const p of chromium.context.pages()) {
      if (p.isClosed()) continue;
      // page.close({ runBeforeUnload: true }) returns before the page is gone, so a tab the test
      // itself closed can still be listed here and finish closing under us: that is not a failure.
      await p.close({ runBeforeUnload: true }).catch((err: Error) => {
        if (!/has been closed/.test(err.message)) throw err;
      });
    }
  });

  const relay = () => `${stack.relay.host}:${stack.relay.port}`;

  async function sessionState(sessionId: string): Promise<Info> {
    const txId = stack.info.transceiver.id as string;
    const reply = await nc.request(sessionStateSubject(txId), encodeJson({ sessionId }), { timeout: 2_000 });
    return decodeJson(SessionInfoReply, reply.data);
  }

  /** The reason the transceiver logged for closing a session, once it has. */
  async function closeReason(sessionId: string, timeoutMs: number): Promise<string | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      for (const line of logs) {
        if (!line.startsWith('[transceiver]') || !line.includes(sessionId)) continue;
        const entry = JSON.parse(line.slice(line.indexOf('{'))) as { msg?: string; reason?: string };
        if (entry.msg === 'session closed') return entry.reason;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  }

  async function openPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await chromium.context.newPage();
    const errors = collectErrors(page);
    await page.goto(stack.edgeUrl);
    return { page, errors };
  }

  async function sessionIdOf(page: Page): Promise<string> {
    const id = await page.getAttribute('#session', 'title');
    expect(id).toMatch(/^[0-9a-f]{12}-[A-Za-z0-9_-]{22}$/);
    return id as string;
  }

  it('serves the page at / and its content-hashed assets, with a CSP that keeps it on its own origin', async () => {
    const res = await fetch(`${stack.edgeUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    const assets = [...html.matchAll(/\/assets\/[\w.-]+/g)].map((m) => m[0]);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const a of new Set(assets)) {
      const r = await fetch(`${stack.edgeUrl}${a}`);
      expect(r.status, a).toBe(200);
      expect(r.headers.get('cache-control'), a).toContain('immutable');
      await r.arrayBuffer();
    }
  });

  it('places a call: relay is the selected remote candidate, echo audio flows without loss, the waterfall is complete; hang-up frees the session', async () => {
    const { page, errors } = await openPage();
    await page.click('#talk');
    await waitForCallState(page, 'connected');
    await page.waitForSelector('#waterfall li[data-stage="audio"][data-ms]', { timeout: 5_000 });

    // Chromium's own view of the path: the nominated pair goes to the relay.
    const first = await statsOnceNominated(page);
    expect(first.connectionState).toBe('connected');
    expect(first.pair).toMatchObject({ state: 'succeeded', nominated: true, remote: relay() });

    // The echo agent's audio keeps coming: ~50 packets a second, none lost on loopback.
    await page.waitForTimeout(3_000);
    const later = await browserStats(page);
    const received = (later.inbound?.packetsReceived ?? 0) - (first.inbound?.packetsReceived ?? 0);
    expect(received).toBeGreaterThan(120);
    expect(later.inbound?.packetsLost).toBe(0);
    expect(later.pair?.remote).toBe(relay());
    // The remote audio is playing in the page's <audio> element.
    const audio = await page.$eval('#remote-audio', (a) => {
      const el = a as HTMLAudioElement;
      return { paused: el.paused, time: el.currentTime, live: el.srcObject instanceof MediaStream };
    });
    expect(audio).toMatchObject({ paused: false, live: true });
    expect(audio.time).toBeGreaterThan(1);

    // The page's own figures agree: four stages in order, the relay badge on the remote candidate.
    const wf = await readWaterfall(page);
    for (const stage of ['signaling', 'ice', 'dtls', 'audio'] as const)
      expect(wf[stage], stage).toBeGreaterThan(0);
    expect(wf.ice).toBeGreaterThanOrEqual(wf.signaling as number);
    expect(wf.dtls).toBeGreaterThanOrEqual(wf.ice as number);
    expect(wf.audio).toBeGreaterThanOrEqual(wf.dtls as number);
    // Chromium's SRTP and SRTCP went through Parley's own SRTP path both ways (werift did only DTLS),
    // and none of it failed authentication: the keys came from the DTLS exporter correctly.
    const txMetrics = stack.info.transceiver.metrics as string;
    const srtp = (kind: string, direction: string) =>
      scrape(txMetrics, 'parley_transceiver_srtp_packets_total', { kind, direction });
    expect(await srtp('rtp', 'in')).toBeGreaterThan(120);
    expect(await srtp('rtp', 'out')).toBeGreaterThan(120);
    expect(await srtp('rtcp', 'in')).toBeGreaterThan(0);
    expect(await scrape(txMetrics, 'parley_transceiver_srtp_dropped_total')).toBe(0);
    await expect.poll(() => page.getAttribute('#m-remote', 'data-address')).toBe(relay());
    expect(await page.textContent('#m-remote .badge')).toBe('relay');
    expect(await page.textContent('#relay')).toBe(relay());
    expect(await page.$eval('#rtt-path', (p) => p.getAttribute('d') ?? '')).toMatch(/^M[\d.]+ [\d.]+/);

    // The `events` data channel was negotiated in-band and is open, and the
    // list shows exactly what arrived on it, newest first (or says none did).
    const channel = await page.evaluate(() => {
      const w = window as unknown as { __dcs: RTCDataChannel[]; __dcMessages: string[] };
      return {
        channels: w.__dcs.map((d) => [d.label, d.readyState]),
        received: [...w.__dcMessages],
        listed: [...document.querySelectorAll('#events li .ev-type')].map((e) => e.textContent),
        emptyShown: !(document.getElementById('events-empty') as HTMLElement).hidden,
      };
    });
    expect(channel.channels).toEqual([['events', 'open']]);
    const types = channel.received.map((m) => (JSON.parse(m) as { type?: string }).type ?? 'message');
    expect(channel.listed).toEqual(types.reverse().slice(0, 50));
    expect(channel.emptyShown).toBe(channel.received.length === 0);
    console.log(`events received on the data channel: ${[...new Set(types)].join(', ') || 'none'}`);
    // When the transceiver says which agent it runs, the call card shows it.
    const ready = channel.received.map((m) => JSON.parse(m)).find((m) => m.type === 'session.ready');
    if (ready) expect(await page.textContent('#agent')).toBe(ready.agent);

    const sessionId = await sessionIdOf(page);
    expect(await sessionState(sessionId)).toMatchObject({ ok: true, state: 'connected' });

    // The call card says what an echo agent does, and the meter beside Talk reads the (beeping) fake mic.
    await expect.poll(() => page.textContent('#agent-state-label')).toBe('Echoing');
    await expect
      .poll(() => page.$eval('#mic-meter', (m) => (m as HTMLMeterElement).value), { timeout: 5_000 })
      .toBeGreaterThan(0);
    expect(await page.isVisible('#conversation-empty')).toBe(true);

    const shot = await screenshot(page, 'browser-call.png');
    await page.setViewportSize({ width: 390, height: 844 });
    const narrow = await screenshot(page, 'browser-call-narrow.png');
    console.log(`screenshots: ${shot} ${narrow}`);
    // On a phone width nothing overflows sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1100, height: 900 });

    // Hang up: the page DELETEs the session, and the transceiver frees it.
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE');
    await page.click('#talk');
    expect((await deleted).status()).toBe(200);
    await waitForCallState(page, 'idle');
    expect(await closeReason(sessionId, 3_000)).toBe('deleted');
    expect(await sessionState(sessionId)).toMatchObject({ ok: false, code: 'not_found' });
    const sub = nc.subscribe(ANNOUNCE_SUBJECT, { max: 1 });
    for await (const m of sub) expect(decodeJson(TransceiverAnnounce, m.data).sessions).toBe(0);

    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  it('closing the tab mid-call DELETEs the session (keepalive request on pagehide)', async () => {
    const { page, errors } = await openPage();
    await page.click('#talk');
    await waitForCallState(page, 'connected');
    const sessionId = await sessionIdOf(page);
    await page.close({ runBeforeUnload: true });
    // "deleted", not a consent or ICE timeout: the DELETE itself ended it.
    expect(await closeReason(sessionId, 3_000)).toBe('deleted');
    expect(await sessionState(sessionId)).toMatchObject({ ok: false, code: 'not_found' });
    expect(errors).toEqual([]);
  });

  it('keeps a Chromium call going across a relay restart: audio resumes after the next consent check', async () => {
    const { page, errors } = await openPage();
    await page.click('#talk');
    await waitForCallState(page, 'connected');
    await page.waitForTimeout(500);
    const restartStarted = performance.now();
    await stack.restart('relay');
    const restartMs = performance.now() - restartStarted;
    const before = (await browserStats(page)).inbound?.packetsReceived ?? 0;
    // Resumed = a second's worth of the echo's packets arrived after the new relay came up.
    let resumedMs: number | undefined;
    while (performance.now() - restartStarted < 15_000) {
      if (((await browserStats(page)).inbound?.packetsReceived ?? 0) > before + 50) {
        resumedMs = performance.now() - restartStarted;
        break;
      }
      await page.waitForTimeout(100);
    }
    console.log(
      `chromium relay restart: restart took ${restartMs.toFixed(0)} ms, audio back after ${resumedMs?.toFixed(0)} ms`,
    );
    expect(resumedMs).toBeDefined();
    expect((await browserStats(page)).pair?.remote).toBe(relay());
    expect(errors).toEqual([]);
  }, 40_000);

  it(
    `connects ${CONNECT_RUNS} times in a row; logs each waterfall and the medians`,
    async () => {
      const { page, errors } = await openPage();
      const runs: Awaited<ReturnType<typeof readWaterfall>>[] = [];
      for (let i = 0; i < CONNECT_RUNS; i++) {
        await page.click('#talk');
        await waitForCallState(page, 'connected');
        await page.waitForSelector('#waterfall li[data-stage="audio"][data-ms]', { timeout: 5_000 });
        const wf = await readWaterfall(page);
        runs.push(wf);
        console.log(
          `chromium call ${i + 1}: signaling ${wf.signaling} ms, ice ${wf.ice} ms, dtls ${wf.dtls} ms, first audio ${wf.audio} ms`,
        );
        await page.click('#talk');
        await waitForCallState(page, 'idle');
      }
      const med = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k] as number));
      console.log(
        `chromium median of ${CONNECT_RUNS}: signaling ${med('signaling')} ms, ice ${med('ice')} ms, dtls ${med('dtls')} ms, first audio ${med('audio')} ms`,
      );
      for (const r of runs) {
        expect(r.ice).toBeGreaterThanOrEqual(r.signaling as number);
        expect(r.dtls).toBeGreaterThanOrEqual(r.ice as number);
        expect(r.audio).toBeGreaterThanOrEqual(r.dtls as number);
      }
      // Every call was hung up: nothing left on the transceiver.
      const sub = nc.subscribe(ANNOUNCE_SUBJECT, { max: 1 });
      for await (const m of sub) expect(decodeJson(TransceiverAnnounce, m.data).sessions).toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    },
    10_000 + CONNECT_RUNS * 5_000,
  );
});
