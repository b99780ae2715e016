import { startGrpcReferenceServer } from '@parley/core/agent/reference/grpc-reference-server.js';
import { startRealtimeReferenceServer } from '@parley/core/agent/reference/realtime-reference-server.js';
import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';
import {
  browserStats,
  type Chromium,
  collectErrors,
  launchChromium,
  SPEECH_TURN_WAV,
  screenshot,
  waitForCallState,
} from './browser-harness.js';

// Replies long enough that the file's next spoken turn (it loops: ~2.7 s of speech, ~3.1 s of
// silence) starts while the agent is still speaking, and the barge-in is confirmed (500 ms) well
// before the reply would end: every cycle is an answer, then a barge-in.
const REPLY_MS = 5_000;

type Msg = { type: string; [k: string]: unknown };

/** Every message the page's `events` data channel received, as Chromium delivered it. */
async function channelMessages(page: Page): Promise<Msg[]> {
  return page.evaluate(() =>
    (window as unknown as { __dcMessages: string[] }).__dcMessages.map((m) => JSON.parse(m)),
  );
}

async function waitForMessage(page: Page, type: string, timeoutMs: number): Promise<Msg[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const msgs = await channelMessages(page);
    if (msgs.some((m) => m.type === type)) return msgs;
    if (performance.now() > deadline)
      throw new Error(
        `no ${type} within ${timeoutMs} ms; got ${[...new Set(msgs.map((m) => m.type))].join(', ')}`,
      );
    await page.waitForTimeout(100);
  }
}

// Real Chromium whose microphone is a spoken sentence (espeak-ng), through the real edge, relay and
// transceiver, to the reference gRPC model server and the reference Realtime-style server.
describe('the page talking to agents that answer, with speech from a file as the microphone', () => {
  let stack: DevStack;
  let chromium: Chromium;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const log = createLogger('reference', 'silent');
    const grpc = await startGrpcReferenceServer({ log, responder: { replyMs: REPLY_MS } });
    closers.push(() => grpc.close());
    const realtime = await startRealtimeReferenceServer({ log, responder: { replyMs: REPLY_MS } });
    closers.push(() => realtime.close());
    [stack, chromium] = await Promise.all([
      startDevStack({
        httpPort: await freeTcpPort(),
        relayPort: await freeUdpPort(),
        icePort: await freeUdpPort(),
        agent: 'grpc',
        // A busy 2-core machine can take more than the default 20 s to start a service.
        readyTimeoutMs: 60_000,
        agentUrl: `127.0.0.1:${grpc.port}`,
        // Both model agents on one transceiver: the page's picker chooses per call.
        env: { PARLEY_LOG_LEVEL: 'warn', PARLEY_REALTIME_URL: realtime.url },
      }),
      launchChromium({ audioFile: SPEECH_TURN_WAV, viewport: { width: 1280, height: 800 } }),
    ]);
  }, 200_000);

  afterAll(async () => {
    await chromium?.close();
    await stack?.stop();
    for (const close of closers) await close();
  });

  async function callAgent(agent: 'grpc' | 'realtime'): Promise<{ page: Page; errors: string[] }> {
    const page = await chromium.context.newPage();
    const errors = collectErrors(page);
    await page.goto(stack.edgeUrl);
    await page.selectOption('#agent-picker', agent);
    expect(new URL(page.url()).searchParams.get('agent')).toBe(agent);
    await page.click('#talk');
    await waitForCallState(page, 'connected');
    return { page, errors };
  }

  /** The agent answered the spoken turn, the page showed it, and a later turn barged in. */
  async function expectAnswerThenBargeIn(page: Page, agent: string): Promise<void> {
    // The microphone meter moves: the file's speech reaches the page's own Web Audio reading.
    await expect
      .poll(async () => page.$eval('#mic-meter', (m) => (m as HTMLMeterElement).value), { timeout: 8_000 })
      .toBeGreaterThan(20);

    // First turn: speech stops, the agent thinks, then speaks. The page's indicator says so.
    await page.waitForSelector('#agent-state[data-state="speaking"]', { timeout: 15_000 });
    const msgs = await waitForMessage(page, 'response.started', 1_000);
    const sequence = msgs.map((m) => `${m.type}${m.state ? `:${m.state}` : ''}@${m.t}`).join(' ');
    expect(msgs[0]).toMatchObject({ type: 'session.ready', agent });
    const types = msgs.map((m) => m.type);
    expect(types).toEqual(expect.arrayContaining(['speech.started', 'speech.stopped', 'agent.state']));
    // It answered speech. (Which comes first, our VAD's speech.stopped or the reply, depends on whose
    // end-of-turn decides: a Realtime-style server runs its own VAD.)
    expect(types.indexOf('speech.started'), sequence).toBeLessThan(types.indexOf('response.started'));

    // The transcript pane shows the turn, and "first reply" the latency the transceiver measured.
    await page.waitForSelector('#transcript .tr-user', { timeout: 5_000 });
    const turn = (await channelMessages(page)).find((m) => m.type === 'latency.turn');
    if (turn) expect(await page.textContent('#first-reply')).toBe(`${Math.round(turn.totalMs as number)} ms`);
    const shown = await page.$$eval('#transcript .tr-text', (els) => els.map((e) => e.textContent));
    const sent = (await channelMessages(page))
      .filter((m) => m.type === 'transcript' && m.final !== false)
      .map((m) => m.text);
    expect(shown.length).toBeGreaterThan(0);
    for (const text of shown) expect(sent).toContain(text);

    // The file speaks again while the 5 s reply is still playing: a barge-in, seen on the data channel
    // and in the conversation pane.
    const all = await waitForMessage(page, 'barge_in', 12_000);
    const barge = all.find((m) => m.type === 'barge_in') as Msg;
    const startedAt = all.findLast(
      (m) => m.type === 'response.started' && (m.t as number) < (barge.t as number),
    );
    expect(startedAt).toBeDefined();
    // It came before the reply could have finished on its own.
    expect((barge.t as number) - (startedAt?.t as number)).toBeLessThan(REPLY_MS);
    // The reply's audio reached Chromium through the relay: the agent sends audio only while it
    // answers, so what arrived by now is reply audio; at least half a second of it (20 ms packets).
    // How much more depends on how busy the machine is, which is the benchmarks' business.
    const received = (await browserStats(page)).inbound?.packetsReceived ?? 0;
    expect(received, all.map((m) => `${m.type}@${m.t}`).join(' ')).toBeGreaterThanOrEqual(25);
    await page.waitForSelector('#transcript .tr-barge-in', { timeout: 2_000 });
    expect(Number(await page.textContent('#barge-ins'))).toBeGreaterThanOrEqual(1);
    console.log(
      `${agent}: first reply ${turn?.totalMs ?? '-'} ms; barge-in ${(barge.t as number) - (startedAt?.t as number)} ms into the reply, ${barge.droppedFrames ?? '-'} frames dropped, detect ${barge.detectMs ?? '-'} ms`,
    );
  }

  it('gRPC agent (reference model server): answers the spoken turn, the page shows it, barge-in works', async () => {
    const { page, errors } = await callAgent('grpc');
    await expectAnswerThenBargeIn(page, 'grpc');

    // Screenshots for people: desktop, phone width, dark; while the agent is speaking if it is.
    await page
      .waitForSelector('#agent-state[data-state="speaking"]', { timeout: 8_000 })
      .catch(() => undefined);
    const desktop = await screenshot(page, 'page-desktop.png', { fullPage: false });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300); // the buttons' colour transition
    const dark = await screenshot(page, 'page-desktop-dark.png', { fullPage: false });
    await page.setViewportSize({ width: 390, height: 844 });
    const narrowDark = await screenshot(page, 'page-narrow-dark.png', { fullPage: false });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForTimeout(300);
    const narrow = await screenshot(page, 'page-narrow.png', { fullPage: false });
    const narrowFull = await screenshot(page, 'page-narrow-full.png');
    console.log(`screenshots: ${[desktop, dark, narrow, narrowDark, narrowFull].join(' ')}`);
    // On a phone width nothing overflows sideways, and the transcript pane starts above the fold.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const paneTop = await page.$eval(
      '#conversation-title',
      (e) => e.getBoundingClientRect().top + window.scrollY,
    );
    expect(paneTop).toBeLessThan(844);
    await page.setViewportSize({ width: 1280, height: 800 });
    const deskTop = await page.$eval('#transcript', (e) => e.getBoundingClientRect().top + window.scrollY);
    expect(deskTop).toBeLessThan(400);

    await page.click('#talk');
    await waitForCallState(page, 'idle');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('Realtime-style agent: answers the spoken turn, the page shows it, barge-in works', async () => {
    const { page, errors } = await callAgent('realtime');
    await expectAnswerThenBargeIn(page, 'realtime');
    await page.click('#talk');
    await waitForCallState(page, 'idle');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
