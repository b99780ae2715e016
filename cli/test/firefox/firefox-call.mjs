// One Firefox call through the whole local stack, run by firefox-call.test.ts
// inside a network namespace that test creates (see there for why). Starts
// the built dev stack (nats-server, transceiver, relay, edge) bound to the
// namespace's one non-loopback address, drives Debian's firefox-esr headless
// over WebDriver BiDi (puppeteer-core), places a call on the page the edge
// serves, hangs up, and prints one JSON line of observations for the test to
// assert on. Everything it starts is stopped in `finally`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { startDevStack } from '../../dist/dev-stack.js';

const HOST = process.env.PARLEY_FF_HOST;
const FIREFOX = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';
if (!HOST) throw new Error('PARLEY_FF_HOST (the namespace address to bind) is required');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The page's own RTCPeerConnection stats (the same fields browser-harness.ts reads from Chromium). */
async function stats(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs.at(-1);
    if (!pc) throw new Error('the page made no RTCPeerConnection');
    const all = [...(await pc.getStats()).values()];
    // Firefox has no `transport` stats: its selected pair is the one flagged `selected`.
    const transport = all.find((s) => s.type === 'transport');
    const pair =
      all.find((s) => s.id === transport?.selectedCandidatePairId) ??
      all.find((s) => s.type === 'candidate-pair' && s.selected);
    const addr = (id) => {
      const c = all.find((s) => s.id === id);
      return c ? `${c.address}:${c.port}` : '';
    };
    const inbound = all.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
    return {
      connectionState: pc.connectionState,
      pair: pair && {
        state: String(pair.state),
        nominated: pair.nominated === true,
        remote: addr(pair.remoteCandidateId),
      },
      inbound: inbound && {
        packetsReceived: Number(inbound.packetsReceived),
        packetsLost: Number(inbound.packetsLost),
      },
      localSdp: pc.localDescription?.sdp,
      remoteSdp: pc.remoteDescription?.sdp,
    };
  });
}

async function waitForState(page, state, timeoutMs = 20_000) {
  await page.waitForSelector(`body[data-call-state="${state}"]`, { timeout: timeoutMs });
}

const out = { logs: [], errors: [] };
let stack;
let browser;
let page;
const profile = await mkdtemp(join(tmpdir(), 'parley-firefox-'));
try {
  stack = await startDevStack({
    host: HOST,
    httpPort: 18080,
    relayPort: 13478,
    icePort: 21000,
    output: (l) => out.logs.push(l),
    env: { PARLEY_LOG_LEVEL: process.env.PARLEY_LOG_LEVEL ?? 'info' },
  });
  out.relay = `${stack.relay.host}:${stack.relay.port}`;
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: {
      // A fake microphone, and no permission prompt for it.
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      // The page is served from the namespace address over http: let Firefox treat it as a
      // secure context, as it does 127.0.0.1, or getUserMedia does not exist there.
      'dom.securecontext.allowlist': HOST,
      // Real host addresses in stats (the relay path is what the test checks).
      'media.peerconnection.ice.obfuscate_host_addresses': false,
    },
  });
  out.browserVersion = await browser.version();
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') out.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => out.errors.push(`pageerror: ${e.message}`));
  // The same recording as browser-harness.ts: the page's peer connections and channels.
  await page.evaluateOnNewDocument(() => {
    window.__pcs = [];
    window.__dcs = [];
    window.__dcMessages = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(config) {
        super(config);
        window.__pcs.push(this);
      }
      createDataChannel(label, init) {
        const dc = super.createDataChannel(label, init);
        window.__dcs.push(dc);
        dc.addEventListener('message', (e) => window.__dcMessages.push(String(e.data)));
        return dc;
      }
    };
  });
  // The dev token endpoint answers loopback clients only; this edge is not on loopback.
  await page.goto(`${stack.edgeUrl}/?token=${encodeURIComponent(stack.token)}`);
  const t0 = performance.now();
  await page.click('#talk');
  // While connecting, keep the last view of ICE: if it never connects, that is what the test shows.
  const watch = setInterval(() => {
    stats(page).then(
      (s) => {
        out.connecting = s;
      },
      () => undefined,
    );
  }, 500);
  await waitForState(page, 'connected').finally(() => clearInterval(watch));
  out.connectMs = Math.round(performance.now() - t0);
  await page.waitForSelector('#waterfall li[data-stage="audio"][data-ms]', { timeout: 10_000 });
  out.waterfall = await page.$$eval('#waterfall li', (rows) =>
    Object.fromEntries(
      rows.map((r) => [r.dataset.stage, r.dataset.ms === undefined ? null : Number(r.dataset.ms)]),
    ),
  );
  out.first = await stats(page);
  await sleep(3_000);
  out.later = await stats(page);
  out.audio = await page.$eval('#remote-audio', (a) => ({
    paused: a.paused,
    time: a.currentTime,
    live: a.srcObject instanceof MediaStream,
  }));
  out.remoteBadge = await page.$eval('#m-remote .badge', (e) => e.textContent);
  out.remoteAddress = await page.$eval('#m-remote', (e) => e.getAttribute('data-address'));
  out.channels = await page.evaluate(() => window.__dcs.map((d) => [d.label, d.readyState]));
  out.messages = await page.evaluate(() => [...window.__dcMessages]);
  out.sessionId = await page.$eval('#session', (e) => e.getAttribute('title'));
  out.metrics = await (await fetch(String(stack.info.transceiver.metrics))).text();

  // Hang up: the page DELETEs the session and goes idle.
  const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE', { timeout: 10_000 });
  await page.click('#talk');
  out.deleteStatus = (await deleted).status();
  await waitForState(page, 'idle');
  // Give the transceiver a moment to log the close.
  for (let i = 0; i < 40 && !out.logs.some((l) => l.includes('session closed')); i++) await sleep(50);
} catch (err) {
  out.failure = String(err?.stack ?? err);
  out.pageAtFailure = await page
    ?.evaluate(() => ({
      state: document.body.dataset.callState,
      text: document.body.innerText.slice(0, 1500),
    }))
    .catch((e) => String(e));
} finally {
  await browser?.close().catch(() => undefined);
  await stack?.stop().catch(() => undefined);
  await rm(profile, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
