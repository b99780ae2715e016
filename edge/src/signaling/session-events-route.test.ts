import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { describe, expect, it } from 'vitest';
import { bearer, expectProblem, makeApp, ROUTE } from '../../test/signaling-app-harness.js';
import type { SessionStatusSource, StatusResult } from './session-events.js';
import { ownerBoundSessionIds } from './session-owner.js';
import { SessionRegistry, TRANSCEIVER_LOST } from './session-registry.js';

const OWNER_SECRET = 'owner-secret-that-is-at-least-32-characters';
const ids = ownerBoundSessionIds(OWNER_SECRET);

/** The HTTP routes over a real registry; only the NATS lookup of unknown sessions is left out. */
function setup(opts: { maxWatchersPerSession?: number } = {}) {
  let now = 0;
  const registry = new SessionRegistry(() => now, opts);
  const source: SessionStatusSource = {
    async status(id): Promise<StatusResult> {
      const s = registry.status(id);
      if (!s) return { ok: false, code: 'not_found', detail: 'no such session' };
      return s.state === 'active'
        ? { ok: true, state: 'active', cluster: s.cluster }
        : { ok: true, state: 'ended', cluster: s.cluster, ended: s.ended };
    },
    watch: (id, l) => registry.watch(id, l),
  };
  const { app } = makeApp({ sessionIds: ids, sessionStatus: source, eventsHeartbeatMs: 50 });
  const sessionId = newSessionId(ROUTE);
  registry.track({ sessionId, transceiverId: 'tx-1', cluster: 'core-a', expiresAt: 3_600_000 });
  const url = `/v1/sessions/${ids.publicId(sessionId, 'alice')}`;
  return { app, registry, sessionId, url, advance: (ms: number) => (now += ms) };
}

async function get(app: ReturnType<typeof setup>['app'], path: string, subject = 'alice') {
  return app.request(path, { headers: { Authorization: await bearer({ subject }) } });
}

/** Reads the stream until it closes or `until` appears, bounded in time. */
async function readStream(res: Response, until?: string, timeoutMs = 2_000): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) throw new Error('no body');
  const dec = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await Promise.race([
      reader.read(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), deadline - Date.now())),
    ]);
    if (r === 'timeout' || r.done) break;
    text += dec.decode(r.value, { stream: true });
    if (until && text.includes(until)) break;
  }
  reader.releaseLock();
  return text;
}

describe('GET /v1/sessions/:id/events (server-sent events)', () => {
  it('holds the stream open and sends session.ended with the reason when the session ends, then closes', async () => {
    const { app, registry, sessionId, url, advance } = setup();
    const res = await get(app, `${url}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('retry: 2000');
    expect(registry.watcherCount).toBe(1);

    advance(4_200);
    registry.end(sessionId, TRANSCEIVER_LOST);
    let rest = '';
    for (let i = 0; i < 20; i++) {
      const r = await reader.read();
      if (r.done) break;
      rest += new TextDecoder().decode(r.value);
    }
    const block = /event: session\.ended\ndata: (.*)\n\n/.exec(rest);
    expect(JSON.parse(block?.[1] ?? 'null')).toEqual({
      type: 'session.ended',
      reason: TRANSCEIVER_LOST,
      t: 4_200,
    });
    expect(registry.watcherCount).toBe(0);
  });

  it('sends keep-alive comments while nothing happens, and forgets the watcher when the client goes away', async () => {
    const { app, registry, url } = setup();
    const res = await get(app, `${url}/events`);
    const text = await readStream(res, ': keep-alive', 2_000);
    expect(text).toContain(': keep-alive');
    await res.body?.cancel();
    expect(registry.watcherCount).toBe(0);
  });

  it('answers an already ended session with its session.ended at once', async () => {
    const { app, registry, sessionId, url } = setup();
    registry.end(sessionId, 'consent_lost');
    const res = await get(app, `${url}/events`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(
      /^event: session\.ended\ndata: \{"type":"session\.ended","reason":"consent_lost","t":0\}\n\n$/,
    );
  });

  it('is owner-bound like DELETE and PATCH: problem+json 401, 404, 405 and 429', async () => {
    const { app, url } = setup({ maxWatchersPerSession: 1 });
    await expectProblem(await app.request(`${url}/events`), 401);
    // Another user's session looks exactly like one that does not exist.
    await expectProblem(await get(app, `${url}/events`, 'mallory'), 404);
    await expectProblem(
      await get(app, `/v1/sessions/${newSessionId(ROUTE)}.AAAAAAAAAAAAAAAAAAAAAA/events`),
      404,
    );
    await expectProblem(await get(app, '/v1/sessions/not-a-session/events'), 404);
    const post = await app.request(`${url}/events`, {
      method: 'POST',
      headers: { Authorization: await bearer() },
    });
    await expectProblem(post, 405);
    expect(post.headers.get('Allow')).toBe('GET');
    const open = await get(app, `${url}/events`);
    expect(open.status).toBe(200);
    const busy = await get(app, `${url}/events`);
    await expectProblem(busy, 429);
    expect(busy.headers.get('Retry-After')).toBe('5');
    await open.body?.cancel();
  });
});

describe('GET /v1/sessions/:id', () => {
  it('says active with the cluster, then ended with the reason', async () => {
    const { app, registry, sessionId, url } = setup();
    const active = await get(app, url);
    expect(active.status).toBe(200);
    expect(await active.json()).toEqual({ state: 'active', cluster: 'core-a' });
    registry.end(sessionId, TRANSCEIVER_LOST);
    expect(await (await get(app, url)).json()).toEqual({
      state: 'ended',
      cluster: 'core-a',
      reason: TRANSCEIVER_LOST,
    });
    await expectProblem(await get(app, url, 'mallory'), 404);
  });

  it('lists GET in Allow when the edge has session status, and not otherwise', async () => {
    const { app, url } = setup();
    const put = await app.request(url, { method: 'PUT', headers: { Authorization: await bearer() } });
    await expectProblem(put, 405);
    expect(put.headers.get('Allow')).toBe('GET, DELETE, PATCH');
    const { app: bare } = makeApp({ sessionIds: ids });
    const res = await get(bare, url);
    await expectProblem(res, 405);
    expect(res.headers.get('Allow')).toBe('DELETE, PATCH');
  });
});
