import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { SessionInfoReply } from '@parley/shared/nats/schemas.js';
import { sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type DevStack, startDevStack } from '../src/dev-stack.js';
import { type Chromium, collectErrors, launchChromium, SPEECH_TURN_WAV } from './browser-harness.js';

/**
 * OpenAI's own Agents SDK (@openai/agents-realtime, from the npm registry),
 * bundled with esbuild and run in real headless Chromium, talks to the real
 * local stack (nats-server, transceiver, relay, edge) with nothing changed
 * but its base URL: it mints nothing itself (the test plays the
 * application's server and mints a client secret), connects over WebRTC,
 * hears the echo agent, and sees Realtime events on `oai-events`. The
 * application's server then drives the same call over the sideband WebSocket.
 */
const APP_KEY = `sk-parley-test-${'k'.repeat(32)}`;
const PAGE = '/__oai-sdk-test.html';
const SCRIPT = '/__oai-sdk-test.js';

// The page script: the SDK used as its README shows, with only baseUrl pointing at Parley.
const PAGE_SCRIPT = `
import { OpenAIRealtimeWebRTC, RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';
window.__oai = { events: [], errors: [] };
window.startCall = async ({ baseUrl, apiKey }) => {
  const audioElement = document.createElement('audio');
  audioElement.id = 'oai-audio';
  document.body.append(audioElement);
  const transport = new OpenAIRealtimeWebRTC({ baseUrl, audioElement });
  transport.on('*', (e) => window.__oai.events.push(e));
  const agent = new RealtimeAgent({ name: 'Parley echo', instructions: 'Repeat what you hear.' });
  const session = new RealtimeSession(agent, { transport, model: 'gpt-realtime' });
  session.on('error', (e) => window.__oai.errors.push(e.error));
  await session.connect({ apiKey });
  window.__oai.session = session;
  window.__oai.transport = transport;
  return { callId: transport.callId, status: transport.status };
};
`;

interface PageEvent {
  type: string;
  [k: string]: unknown;
}

describe('OpenAI Agents SDK (WebRTC) in headless Chromium against Parley, only the base URL changed', () => {
  let stack: DevStack;
  let chromium: Chromium;
  let nc: NatsConnection;
  let bundle: string;

  beforeAll(async () => {
    const [httpPort, relayPort, icePort] = await Promise.all([freeTcpPort(), freeUdpPort(), freeUdpPort()]);
    const built = build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: import.meta.dirname, loader: 'js' },
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      target: ['chrome110'],
      logLevel: 'silent',
    });
    [stack, chromium] = await Promise.all([
      startDevStack({
        httpPort,
        relayPort,
        icePort,
        // The transceiver offers echo and realtime (the reference Realtime model server, a child).
        agent: 'realtime',
        env: { PARLEY_LOG_LEVEL: 'info', PARLEY_REALTIME_API_KEYS: APP_KEY },
      }),
      // A spoken question then silence, looped, as the microphone: turns the agents can answer.
      launchChromium({ audioFile: SPEECH_TURN_WAV }),
    ]);
    bundle = (await built).outputFiles[0]?.text ?? '';
    nc = await connect({ servers: stack.natsUrl });
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await nc?.close();
    await stack?.stop();
  });

  /** The application's server: trades its key for a short-lived client secret. */
  async function clientSecret(model = 'echo', instructions?: string): Promise<string> {
    const res = await fetch(`${stack.edgeUrl}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${APP_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ session: { type: 'realtime', model, ...(instructions && { instructions }) } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { value: string; expires_at: number };
    expect(body.value.startsWith('ek_')).toBe(true);
    expect(body.expires_at).toBeGreaterThan(Date.now() / 1000);
    return body.value;
  }

  /** A page on the edge's own origin (served by the test), so the SDK's fetch is same-origin. */
  async function sdkPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await chromium.context.newPage();
    const errors = collectErrors(page);
    await page.route(`${stack.edgeUrl}${PAGE}`, (r) =>
      r.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><script type="module" src="${SCRIPT}"></script>`,
      }),
    );
    await page.route(`${stack.edgeUrl}${SCRIPT}`, (r) =>
      r.fulfill({ contentType: 'text/javascript', body: bundle }),
    );
    await page.goto(`${stack.edgeUrl}${PAGE}`);
    await page.waitForFunction(
      () => typeof (window as unknown as { startCall?: unknown }).startCall === 'function',
    );
    return { page, errors };
  }

  async function startCall(page: Page, model?: string, instructions?: string): Promise<string> {
    const apiKey = await clientSecret(model, instructions);
    const baseUrl = `${stack.edgeUrl}/v1/realtime/calls`;
    const r = await page.evaluate(
      (args) =>
        (
          window as unknown as { startCall: (a: unknown) => Promise<{ callId: string; status: string }> }
        ).startCall(args),
      { baseUrl, apiKey },
    );
    expect(r.status).toBe('connected');
    expect(r.callId).toMatch(/^[0-9a-f]{12}-[A-Za-z0-9_-]{22}$/);
    return r.callId;
  }

  const pageEvents = (page: Page) =>
    page.evaluate(() =>
      (window as unknown as { __oai: { events: PageEvent[] } }).__oai.events.map((e) => ({ ...e })),
    );

  async function sessionState(callId: string) {
    const txId = stack.info.transceiver.id as string;
    const reply = await nc.request(sessionStateSubject(txId), encodeJson({ sessionId: callId }), {
      timeout: 2_000,
    });
    return decodeJson(SessionInfoReply, reply.data);
  }

  function sideband(callId: string, key = APP_KEY): WebSocket {
    const url = `${stack.edgeUrl.replace(/^http/, 'ws')}/v1/realtime?call_id=${encodeURIComponent(callId)}`;
    return new WebSocket(url, { headers: { Authorization: `Bearer ${key}` } });
  }

  /** Resolves with the first message matching, collecting everything seen meanwhile. */
  function nextEvent(ws: WebSocket, match: (e: PageEvent) => boolean, timeoutMs = 5_000): Promise<PageEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.off('message', on);
        reject(new Error('no matching sideband event in time'));
      }, timeoutMs);
      const on = (data: WebSocket.RawData) => {
        const e = JSON.parse(data.toString()) as PageEvent;
        if (!match(e)) return;
        clearTimeout(timer);
        ws.off('message', on);
        resolve(e);
      };
      ws.on('message', on);
    });
  }

  it('connects with a client secret, hears the echo agent and sees Realtime events; the sideband watches, instructs, takes a tool result and hangs up', async () => {
    const { page, errors } = await sdkPage();
    const callId = await startCall(page, 'echo', 'From the client secret.');
    expect(await sessionState(callId)).toMatchObject({ ok: true, state: 'connected' });

    // connect() resolved only after session.updated came back on oai-events for the SDK's own session.update.
    const first = await pageEvents(page);
    const created = first.find((e) => e.type === 'session.created');
    // The session starts from the settings in the client secret; the SDK's own session.update then replaces them.
    expect(created?.session).toMatchObject({
      type: 'realtime',
      id: callId,
      model: 'echo',
      instructions: 'From the client secret.',
    });
    const updated = first.find((e) => e.type === 'session.updated');
    expect(updated?.session).toMatchObject({ instructions: 'Repeat what you hear.' });

    // The SDK's audio element plays the echo agent: packets arrive and carry sound.
    await page.waitForTimeout(3_000);
    const heard = await page.evaluate(async () => {
      const w = window as unknown as { __pcs: RTCPeerConnection[] };
      const pc = w.__pcs.at(-1) as RTCPeerConnection;
      let inbound: { packetsReceived?: number; totalAudioEnergy?: number } = {};
      for (const s of (await pc.getStats()).values())
        if (s.type === 'inbound-rtp' && s.kind === 'audio') inbound = s;
      const a = document.getElementById('oai-audio') as HTMLAudioElement;
      return { inbound, playing: !a.paused && a.srcObject instanceof MediaStream, time: a.currentTime };
    });
    expect(heard.inbound.packetsReceived ?? 0).toBeGreaterThan(100);
    expect(heard.inbound.totalAudioEnergy ?? 0).toBeGreaterThan(0);
    expect(heard.playing).toBe(true);
    expect(heard.time).toBeGreaterThan(1);
    const types = new Set((await pageEvents(page)).map((e) => e.type));
    // The echo agent speaking is the WebRTC-only output_audio_buffer.started event.
    expect(types).toContain('output_audio_buffer.started');
    console.log(`Realtime events the SDK saw: ${[...types].join(', ')}`);

    // An unknown client event gets a Realtime error naming it, and the call goes on.
    await page.evaluate(() =>
      (
        window as unknown as { __oai: { transport: { sendEvent(e: unknown): void } } }
      ).__oai.transport.sendEvent({
        type: 'session.destroy',
        event_id: 'evt_bad_1',
      }),
    );
    await expect
      .poll(async () => (await pageEvents(page)).find((e) => e.type === 'error')?.error, { timeout: 5_000 })
      .toMatchObject({
        type: 'invalid_request_error',
        code: 'invalid_value',
        param: 'type',
        event_id: 'evt_bad_1',
      });
    // Echo cannot start a response on request, and says so.
    await page.evaluate(() =>
      (
        window as unknown as { __oai: { transport: { sendEvent(e: unknown): void } } }
      ).__oai.transport.sendEvent({
        type: 'response.create',
        event_id: 'evt_resp_1',
      }),
    );
    await expect
      .poll(async () =>
        (await pageEvents(page)).some(
          (e) => e.type === 'error' && (e.error as { event_id?: string }).event_id === 'evt_resp_1',
        ),
      )
      .toBe(true);

    // The application's server attaches to the live call.
    const ws = sideband(callId);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // It watches: what the call's own client causes reaches it too.
    const watched = nextEvent(ws, (e) => e.type === 'error');
    await page.evaluate(() =>
      (
        window as unknown as { __oai: { transport: { sendEvent(e: unknown): void } } }
      ).__oai.transport.sendEvent({
        type: 'bogus.from_browser',
        event_id: 'evt_watch_1',
      }),
    );
    expect((await watched).error).toMatchObject({ code: 'invalid_value', event_id: 'evt_watch_1' });

    // It sends instructions: both it and the browser see the session change.
    const updatedBySideband = nextEvent(ws, (e) => e.type === 'session.updated');
    ws.send(
      JSON.stringify({
        type: 'session.update',
        session: { type: 'realtime', instructions: 'From the server.' },
      }),
    );
    expect((await updatedBySideband).session).toMatchObject({
      instructions: 'From the server.',
      model: 'echo',
    });
    await expect
      .poll(async () =>
        (await pageEvents(page)).some(
          (e) =>
            e.type === 'session.updated' &&
            (e.session as { instructions?: string }).instructions === 'From the server.',
        ),
      )
      .toBe(true);

    // It returns a tool result: the item joins the conversation.
    // (The user's own turns add items too: wait for this one.)
    const added = nextEvent(
      ws,
      (e) =>
        e.type === 'conversation.item.added' && (e.item as { call_id?: string }).call_id === 'call_weather_1',
    );
    ws.send(
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'function_call_output', call_id: 'call_weather_1', output: '{"temp_c":21}' },
      }),
    );
    expect((await added).item).toMatchObject({
      type: 'function_call_output',
      call_id: 'call_weather_1',
      output: '{"temp_c":21}',
    });

    // Invalid input is answered with error events, not a dropped socket.
    const notJson = nextEvent(ws, (e) => e.type === 'error');
    ws.send('{nope');
    expect((await notJson).error).toMatchObject({ code: 'invalid_json' });
    const badItem = nextEvent(ws, (e) => e.type === 'error');
    ws.send(
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'function_call_output', output: 'x' },
      }),
    );
    expect((await badItem).error).toMatchObject({
      code: 'missing_required_parameter',
      param: 'item.call_id',
    });

    // It hangs up: the call ends on the transceiver and the sideband closes with it.
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    const hang = await fetch(`${stack.edgeUrl}/v1/realtime/calls/${callId}/hangup`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${APP_KEY}` },
    });
    expect(hang.status).toBe(200);
    expect(await closed).toEqual({ code: 1000, reason: 'call ended' });
    expect(await sessionState(callId)).toMatchObject({ ok: false, code: 'not_found' });
    await expect
      .poll(
        () =>
          page.evaluate(
            () => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1)?.connectionState,
          ),
        {
          timeout: 15_000,
        },
      )
      .not.toBe('connected');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('with the realtime agent (OpenAI model name → the default agent) the SDK hears a spoken turn answered: transcripts, response events and its own history', async () => {
    const { page, errors } = await sdkPage();
    const callId = await startCall(page, 'gpt-realtime');
    const created = (await pageEvents(page)).find((e) => e.type === 'session.created');
    expect(created?.session).toMatchObject({ model: 'realtime' });
    const seen = async () => new Set((await pageEvents(page)).map((e) => e.type));
    // Parley's VAD frames the user's turn; the model transcribes it, answers, and the answer finishes.
    const required = [
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'conversation.item.input_audio_transcription.completed',
      'response.created',
      'response.output_audio_transcript.done',
      'output_audio_buffer.started',
      'response.done',
    ];
    let types = await seen();
    await expect
      .poll(
        async () => {
          types = await seen();
          return required.filter((t) => !types.has(t));
        },
        { timeout: 25_000 },
      )
      .toEqual([]);
    const events = await pageEvents(page);
    // Every stop closes a turn the SDK saw start (a turn already under way when oai-events opened is replayed).
    const starts = events.filter((e) => e.type === 'input_audio_buffer.speech_started').map((e) => e.item_id);
    for (const stop of events.filter((e) => e.type === 'input_audio_buffer.speech_stopped'))
      expect(starts).toContain(stop.item_id);
    const done = events.find((e) => e.type === 'response.done') as unknown as {
      response: { status: string; output: unknown[] };
    };
    const finished = events.filter((e) => e.type === 'response.output_audio_transcript.done');
    expect(finished.map((e) => e.transcript)).toContainEqual(
      expect.stringMatching(/^reply \d+: a 1\.2 s chime$/),
    );
    expect(['completed', 'cancelled']).toContain(done.response.status);
    console.log(`Realtime events with the realtime agent: ${[...types].join(', ')}`);
    // The SDK built its conversation history from them (including its conversation.item.retrieve round trips).
    const history = await page.evaluate(() =>
      (
        window as unknown as {
          __oai: { session: { history: { role?: string; content?: { transcript?: string | null }[] }[] } };
        }
      ).__oai.session.history.map((h) => ({ role: h.role, transcript: h.content?.[0]?.transcript ?? null })),
    );
    expect(history.some((h) => h.role === 'user' && /s of speech/.test(h.transcript ?? ''))).toBe(true);
    expect(history.some((h) => h.role === 'assistant')).toBe(true);
    // The model's answer is audible: the SDK's audio element plays packets with sound in them.
    const inbound = await page.evaluate(async () => {
      const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1) as RTCPeerConnection;
      for (const s of (await pc.getStats()).values())
        if (s.type === 'inbound-rtp' && s.kind === 'audio') return s;
      return undefined;
    });
    expect(inbound?.totalAudioEnergy ?? 0).toBeGreaterThan(0);
    const hang = await fetch(`${stack.edgeUrl}/v1/realtime/calls/${callId}/hangup`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${APP_KEY}` },
    });
    expect(hang.status).toBe(200);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the sideband refuses a wrong key (401), a client secret (401) and unknown or ended calls (404)', async () => {
    const refused = (ws: WebSocket) =>
      new Promise<number>((resolve, reject) => {
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        });
        ws.once('open', () => reject(new Error('sideband accepted a connection it should refuse')));
        ws.once('error', () => {});
      });
    const { page } = await sdkPage();
    const callId = await startCall(page);
    expect(await refused(sideband(callId, `sk-parley-wrong-${'x'.repeat(32)}`))).toBe(401);
    expect(await refused(sideband(callId, await clientSecret()))).toBe(401);
    expect(await refused(sideband('0123456789ab-AAAAAAAAAAAAAAAAAAAAAA'))).toBe(404);
    const txRoute = callId.slice(0, 12);
    expect(await refused(sideband(`${txRoute}-AAAAAAAAAAAAAAAAAAAAAA`))).toBe(404);
    // The SDK's own close() hangs up: it closes oai-events, then the connection, and Parley ends the
    // call at once instead of waiting for consent to run out (30 s).
    await page.evaluate(() =>
      (window as unknown as { __oai: { session: { close(): void } } }).__oai.session.close(),
    );
    await expect.poll(async () => (await sessionState(callId)).ok, { timeout: 5_000 }).toBe(false);
    // Once the call is over, there is nothing to attach to.
    expect(await refused(sideband(callId))).toBe(404);
    await page.close();
  }, 60_000);

  it('calls without a valid client secret are refused with 401 before any session is placed', async () => {
    const res = await fetch(`${stack.edgeUrl}/v1/realtime/calls`, {
      method: 'POST',
      headers: { Authorization: 'Bearer ek_forged.token.value', 'Content-Type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });
});
