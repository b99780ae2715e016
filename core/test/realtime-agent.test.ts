import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startRealtimeReferenceServer } from '../src/agent/reference/realtime-reference-server.js';
import {
  bargeInStop,
  concat,
  decodeReceived,
  type Harness,
  openCall,
  peakToneLevel,
  speechLike,
  startHarness,
} from './support/call-harness.js';

const log = createLogger('test', 'silent');
const silence = (ms: number) => new Int16Array(48 * ms);
const KEY = 'sk-test-local-only';

/**
 * A real WebSocket server that completes the handshake, then misbehaves as
 * scripted when the test calls `misbehave()`: once the call is up, not on a
 * timer, so a slow setup on a loaded machine cannot make it happen mid-setup.
 */
async function scriptedServer(after: (ws: import('ws').WebSocket) => void) {
  const port = await freeTcpPort();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((r) => wss.once('listening', r));
  let configured: import('ws').WebSocket | undefined;
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'session.created', session: {} }));
    ws.on('message', (d) => {
      if (JSON.parse(d.toString()).type === 'session.update') {
        ws.send(JSON.stringify({ type: 'session.updated', session: {} }));
        configured = ws;
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    misbehave: () => {
      if (!configured) throw new Error('no configured session to misbehave on');
      after(configured);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

describe('Realtime WebSocket bridge against a local server implementing the protocol subset', () => {
  let srv: Awaited<ReturnType<typeof startRealtimeReferenceServer>>;
  let h: Harness;
  beforeAll(async () => {
    srv = await startRealtimeReferenceServer({ apiKey: KEY, log, responder: { replyMs: 1_000, speed: 1 } });
    h = await startHarness(undefined, { PARLEY_REALTIME_URL: srv.url, PARLEY_REALTIME_API_KEY: KEY });
  });
  afterAll(async () => {
    await h?.close();
    await srv?.close();
  });

  it('streams the user turn as base64 PCM at 24 kHz and plays the response audio deltas back', async () => {
    const call = await openCall(h, { agent: 'realtime', dataChannel: true });
    expect(await call.waitForEvent('session.ready')).toMatchObject({
      agent: 'realtime',
      agentSampleRate: 24_000,
    });
    await call.sendPcm(concat(silence(200), speechLike(800), silence(800)));
    await call.waitForEvent('response.done', 5_000);
    const speaking = call.events.findIndex((e) => e.type === 'agent.state' && e.state === 'speaking');
    await call.waitFor((e) => e.type === 'agent.state' && e.state === 'listening', 3_000, speaking + 1);

    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'transcript', role: 'user', final: true }),
    );
    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'transcript', role: 'agent', final: true }),
    );
    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'response.done', status: 'completed' }),
    );
    expect(call.received.length).toBeGreaterThanOrEqual(48);
    const { pcm } = decodeReceived(call.received);
    expect(peakToneLevel(pcm, 440)).toBeGreaterThan(3_000);
    const lat = call.events.find((e) => e.type === 'latency.turn');
    console.log('realtime turn latency', JSON.stringify(lat));
    expect(lat).toBeDefined();
    await call.close();
  }, 20_000);

  it('barge-in sends response.cancel: the server reports the response cancelled and agent audio stops', async () => {
    const call = await openCall(h, { agent: 'realtime', dataChannel: true });
    await call.sendPcm(concat(speechLike(600), silence(700)));
    await call.waitForEvent('response.started', 5_000);
    await new Promise((r) => setTimeout(r, 250));
    const first = call.sentAt.length;
    await call.sendPcm(speechLike(400));
    await call.waitForEvent('barge_in', 2_000);
    await call.waitFor((e) => e.type === 'response.done' && e.status === 'cancelled', 2_000);
    await new Promise((r) => setTimeout(r, 300));
    const stop = bargeInStop(call, first);
    console.log(`barge-in (realtime): ${JSON.stringify(stop)} after the first speech packet`);
    expect(stop.packetsAfter).toBeLessThanOrEqual(5);
    expect(stop.stopMs).toBeLessThan(1_000);
    await call.close();
  }, 20_000);

  it('a wrong API key fails the offer (HTTP 401 from the server), and the key never appears in the reason', async () => {
    const bad = await startHarness(undefined, {
      PARLEY_REALTIME_URL: srv.url,
      PARLEY_REALTIME_API_KEY: 'sk-wrong',
    });
    try {
      const err = await openCall(bad, { agent: 'realtime' }).catch((e: Error) => e);
      expect(String(err)).toMatch(
        /agent unavailable: realtime agent at ws:\/\/127\.0\.0\.1:\d+\/v1\/realtime refused the connection: HTTP 401/,
      );
      expect(String(err)).not.toContain('sk-wrong');
    } finally {
      await bad.close();
    }
  }, 20_000);
});

describe('Realtime bridge failures end the session cleanly', () => {
  it('a malformed audio delta ends the session with the reason', async () => {
    const s = await scriptedServer((ws) =>
      ws.send(JSON.stringify({ type: 'response.output_audio.delta', delta: '%%%' })),
    );
    const h = await startHarness(undefined, { PARLEY_REALTIME_URL: s.url });
    try {
      const call = await openCall(h, { agent: 'realtime', dataChannel: true });
      s.misbehave();
      const ended = await call.waitForEvent('session.ended', 3_000);
      expect(ended.reason).toBe(
        'agent: realtime agent sent a malformed message: response.output_audio.delta: audio is not base64',
      );
      for (let i = 0; i < 50 && h.tx.sessions.count > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(h.tx.sessions.count).toBe(0);
      await call.close();
    } finally {
      await h.close();
      await s.close();
    }
  }, 20_000);

  it('a server that drops the connection mid-call ends the session with the reason', async () => {
    const s = await scriptedServer((ws) => ws.terminate());
    const h = await startHarness(undefined, { PARLEY_REALTIME_URL: s.url });
    try {
      const call = await openCall(h, { agent: 'realtime', dataChannel: true });
      s.misbehave();
      const ended = await call.waitForEvent('session.ended', 3_000);
      expect(String(ended.reason)).toMatch(/^agent: realtime agent closed the connection \(1006/);
      await call.close();
    } finally {
      await h.close();
      await s.close();
    }
  }, 20_000);

  it('error events are counted, not fatal: the session survives one', async () => {
    const s = await scriptedServer((ws) =>
      ws.send(JSON.stringify({ type: 'error', error: { code: 'response_cancel_not_active', message: 'x' } })),
    );
    const h = await startHarness(undefined, { PARLEY_REALTIME_URL: s.url });
    try {
      const call = await openCall(h, { agent: 'realtime', dataChannel: true });
      s.misbehave();
      await new Promise((r) => setTimeout(r, 600));
      expect(call.events.map((e) => e.type)).not.toContain('session.ended');
      expect(h.tx.sessions.count).toBe(1);
      await call.close();
    } finally {
      await h.close();
      await s.close();
    }
  }, 20_000);
});
