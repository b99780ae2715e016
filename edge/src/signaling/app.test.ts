import { readFileSync } from 'node:fs';
import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createSignalingApp, type HealthStatus, type SignalingAppDeps } from './app.js';
import { createJwtAuthenticator, createNoAuth, mintDevToken } from './auth.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import type {
  CloseResult,
  CreateErrorCode,
  CreateResult,
  CreateSessionRequest,
  SessionBroker,
} from './session-broker.js';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';
const OFFER = readFileSync(new URL('./__fixtures__/chrome-offer.sdp', import.meta.url), 'utf8').replace(
  /\r?\n/g,
  '\r\n',
);
const ANSWER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const ROUTE = '0123456789ab';

/** Interface double for the HTTP layer: records calls, returns what the test says. */
class StubBroker implements SessionBroker {
  readonly created: CreateSessionRequest[] = [];
  readonly closed: string[] = [];
  readonly live = new Set<string>();
  nextCreate?: CreateResult | (() => Promise<CreateResult>);

  async create(req: CreateSessionRequest): Promise<CreateResult> {
    this.created.push(req);
    const next = this.nextCreate;
    if (typeof next === 'function') return next();
    if (next) return next;
    const sessionId = newSessionId(ROUTE);
    this.live.add(sessionId);
    return { ok: true, sessionId, answer: ANSWER };
  }

  async close(sessionId: string): Promise<CloseResult> {
    this.closed.push(sessionId);
    if (!this.live.delete(sessionId)) return { ok: false, code: 'not_found', detail: 'no such session' };
    return { ok: true };
  }
}

function makeApp(over: Partial<SignalingAppDeps> = {}) {
  const broker = new StubBroker();
  const app = createSignalingApp({
    auth: createJwtAuthenticator({ secret: SECRET }),
    broker,
    log: pino({ level: 'silent' }),
    ...over,
  });
  return { app, broker };
}

async function bearer(opts: { subject?: string; ttlSeconds?: number } = {}): Promise<string> {
  return `Bearer ${await mintDevToken(SECRET, { subject: opts.subject ?? 'alice', ttlSeconds: opts.ttlSeconds ?? 60 })}`;
}

async function post(
  app: ReturnType<typeof makeApp>['app'],
  init: { body?: BodyInit; headers?: Record<string, string>; query?: string } = {},
): Promise<Response> {
  return app.request(`/v1/sessions${init.query ?? ''}`, {
    method: 'POST',
    body: init.body ?? OFFER,
    headers: { 'Content-Type': 'application/sdp', Authorization: await bearer(), ...init.headers },
  });
}

async function expectProblem(
  res: Response,
  status: number,
  detail?: RegExp,
): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(typeof body.detail).toBe('string');
  if (detail) expect(body.detail).toMatch(detail);
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack traces
  return body;
}

describe('POST /v1/sessions', () => {
  it('returns 201 with the answer, its content type, and the session URL', async () => {
    const { app, broker } = makeApp();
    const res = await post(app, { query: '?agent=echo' });
    expect(res.status).toBe(201);
    expect(res.headers.get('Content-Type')).toBe('application/sdp');
    expect(await res.text()).toBe(ANSWER);
    const sessionId = [...broker.live][0];
    expect(res.headers.get('Location')).toBe(`/v1/sessions/${sessionId}`);
    expect(broker.created).toEqual([{ offer: OFFER, agent: 'echo', subject: 'alice' }]);
  });

  it('accepts content type parameters and any case', async () => {
    const { app } = makeApp();
    const res = await post(app, { headers: { 'Content-Type': 'Application/SDP; charset=utf-8' } });
    expect(res.status).toBe(201);
  });

  it("uses the token's agent claim, lets ?agent= repeat it, and 403s a different one", async () => {
    const { app, broker } = makeApp();
    const token = `Bearer ${await mintDevToken(SECRET, { subject: 'bob', agent: 'grpc' })}`;
    expect((await post(app, { headers: { Authorization: token } })).status).toBe(201);
    expect((await post(app, { headers: { Authorization: token }, query: '?agent=grpc' })).status).toBe(201);
    expect(broker.created.map((r) => r.agent)).toEqual(['grpc', 'grpc']);
    await expectProblem(
      await post(app, { headers: { Authorization: token }, query: '?agent=echo' }),
      403,
      /only talk to agent "grpc"/,
    );
    expect(broker.created).toHaveLength(2);
  });

  it('leaves agent and subject out when absent (auth off)', async () => {
    const { app, broker } = makeApp({ auth: createNoAuth() });
    const res = await app.request('/v1/sessions', {
      method: 'POST',
      body: OFFER,
      headers: { 'Content-Type': 'application/sdp' },
    });
    expect(res.status).toBe(201);
    expect(broker.created).toEqual([{ offer: OFFER }]);
  });

  it('400s malformed SDP, offers without audio, ICE credentials or fingerprint, before the broker', async () => {
    const { app, broker } = makeApp();
    const cases: [string, RegExp][] = [
      ['hello', /v=0/],
      [OFFER.replace('m=audio', 'm=video'), /audio/],
      [OFFER.replace(/a=ice-ufrag:.*\r\n/, ''), /ice-ufrag/],
      [OFFER.replace(/a=fingerprint:.*\r\n/, ''), /fingerprint/],
    ];
    for (const [body, detail] of cases) {
      const problem = await expectProblem(await post(app, { body }), 400, detail);
      expect(problem.type).toBe('urn:parley:problem:bad-offer');
    }
    await expectProblem(await post(app, { query: '?agent=../../x' }), 400, /agent/);
    expect(broker.created).toEqual([]);
  });

  it('401s a missing, malformed, badly signed or expired token, with a Bearer challenge', async () => {
    const { app, broker } = makeApp();
    const missing = await app.request('/v1/sessions', {
      method: 'POST',
      body: OFFER,
      headers: { 'Content-Type': 'application/sdp' },
    });
    await expectProblem(missing, 401, /missing/);
    expect(missing.headers.get('WWW-Authenticate')).toBe('Bearer realm="parley"');

    const forged = `Bearer ${await mintDevToken('another-secret-that-is-also-32-chars-long', { subject: 'x' })}`;
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    const cases: [string, RegExp][] = [
      ['Basic YWxpY2U6c2VjcmV0', /Bearer/],
      ['Bearer not-a-jwt', /malformed/],
      [forged, /signature/],
      [`Bearer ${expired}`, /expired/],
    ];
    for (const [authorization, detail] of cases) {
      const res = await post(app, { headers: { Authorization: authorization } });
      await expectProblem(res, 401, detail);
      expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="parley", error="invalid_token"');
    }
    expect(broker.created).toEqual([]);
  });

  it('checks issuer and audience when configured', async () => {
    const { app } = makeApp({
      auth: createJwtAuthenticator({ secret: SECRET, issuer: 'parley-test', audience: 'edge' }),
    });
    const right = await mintDevToken(SECRET, { subject: 'a', issuer: 'parley-test', audience: 'edge' });
    const wrongAud = await mintDevToken(SECRET, { subject: 'a', issuer: 'parley-test', audience: 'other' });
    expect((await post(app, { headers: { Authorization: `Bearer ${right}` } })).status).toBe(201);
    await expectProblem(await post(app, { headers: { Authorization: `Bearer ${wrongAud}` } }), 401, /aud/);
    await expectProblem(await post(app), 401, /iss/);
  });

  it('413s an oversized body, whether or not Content-Length announces it', async () => {
    const { app, broker } = makeApp({ maxOfferBytes: 4096 });
    const big = `${OFFER}${'a=x-padding:0123456789\r\n'.repeat(400)}`;
    await expectProblem(await post(app, { body: big }), 413, /4096 bytes/);
    await expectProblem(
      await post(app, {
        body: big,
        headers: { 'Content-Length': String(new TextEncoder().encode(big).length) },
      }),
      413,
    );
    // A stream with no length: counted while read, refused past the limit.
    const chunk = new TextEncoder().encode('x'.repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        if (sent > 100) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await app.request('/v1/sessions', {
      method: 'POST',
      body: stream,
      headers: { 'Content-Type': 'application/sdp', Authorization: await bearer() },
      duplex: 'half',
    } as RequestInit);
    await expectProblem(res, 413);
    expect(sent).toBeLessThan(100);
    expect(broker.created).toEqual([]);
    // Just under the limit still goes through.
    expect((await post(app)).status).toBe(201);
  });

  it('415s a missing or wrong content type', async () => {
    const { app } = makeApp();
    for (const type of ['application/json', 'text/plain', '']) {
      const res = await post(app, { headers: { 'Content-Type': type } });
      await expectProblem(res, 415, /application\/sdp/);
    }
  });

  it('maps broker failures to statuses, problem types and Retry-After', async () => {
    const { app, broker } = makeApp();
    const cases: [CreateErrorCode, number, string | null][] = [
      ['bad_offer', 400, null],
      ['no_transceivers', 503, '5'],
      ['no_capacity', 503, '5'],
      ['draining', 503, '1'],
      ['timeout', 503, '2'],
      ['unavailable', 503, '2'],
      ['transceiver_error', 502, null],
    ];
    for (const [code, status, retryAfter] of cases) {
      broker.nextCreate = { ok: false, code, detail: `because ${code}` };
      const res = await post(app);
      const body = await expectProblem(res, status, new RegExp(`because ${code}`));
      expect(body.code).toBe(code);
      expect(body.type).toMatch(/^urn:parley:problem:/);
      expect(res.headers.get('Retry-After')).toBe(retryAfter);
    }
  });

  it('500s an unexpected broker exception without leaking it', async () => {
    const { app, broker } = makeApp();
    broker.nextCreate = async () => {
      throw new Error('secret database password in message');
    };
    const res = await post(app);
    const body = await expectProblem(res, 500);
    expect(JSON.stringify(body)).not.toContain('password');
  });
});

describe('DELETE /v1/sessions/:id', () => {
  it('ends a session with 200, then 404s it', async () => {
    const { app } = makeApp();
    const created = await post(app);
    const location = created.headers.get('Location') as string;
    const del = () => app.request(location, { method: 'DELETE', headers: { Authorization: '' } });

    const ok = await app.request(location, { method: 'DELETE', headers: { Authorization: await bearer() } });
    expect(ok.status).toBe(200);
    const again = await app.request(location, {
      method: 'DELETE',
      headers: { Authorization: await bearer() },
    });
    const body = await expectProblem(again, 404);
    expect(body.type).toBe('urn:parley:problem:session-not-found');
    // Auth is required even to learn that a session does not exist.
    await expectProblem(await del(), 401);
  });

  it('401s without a token and does not touch the broker', async () => {
    const { app, broker } = makeApp();
    const res = await app.request(`/v1/sessions/${newSessionId(ROUTE)}`, { method: 'DELETE' });
    await expectProblem(res, 401);
    expect(broker.closed).toEqual([]);
  });

  it('maps a close timeout to 503 with Retry-After', async () => {
    const { app, broker } = makeApp();
    broker.close = async () => ({ ok: false, code: 'timeout', detail: 'slow' });
    const res = await app.request(`/v1/sessions/${newSessionId(ROUTE)}`, {
      method: 'DELETE',
      headers: { Authorization: await bearer() },
    });
    await expectProblem(res, 503, /slow/);
    expect(res.headers.get('Retry-After')).toBe('2');
  });
});

describe('other routes', () => {
  it('404s unknown routes with problem+json', async () => {
    const { app } = makeApp();
    await expectProblem(await app.request('/nope'), 404, /GET \/nope/);
    await expectProblem(await app.request('/v1/sessions/a/b', { method: 'DELETE' }), 404);
  });

  it('405s wrong methods on known paths with Allow', async () => {
    const { app } = makeApp();
    const list = await app.request('/v1/sessions');
    await expectProblem(list, 405);
    expect(list.headers.get('Allow')).toBe('POST');
    const patch = await app.request(`/v1/sessions/${newSessionId(ROUTE)}`, { method: 'PATCH' });
    await expectProblem(patch, 405);
    expect(patch.headers.get('Allow')).toBe('DELETE');
  });

  it('reports health as 200 or 503 with the transceiver count', async () => {
    let health: HealthStatus = { ok: true, transceivers: 3 };
    const { app } = makeApp({ isHealthy: () => health });
    const up = await app.request('/healthz');
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ok', transceivers: 3 });

    health = { ok: false, transceivers: 0, detail: 'NATS disconnected' };
    const down = await app.request('/healthz');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'unavailable',
      transceivers: 0,
      detail: 'NATS disconnected',
    });
    // Liveness does not depend on transceivers.
    expect((await app.request('/livez')).status).toBe(200);
  });

  it('runs injected middleware around every request, including errors', async () => {
    const seen: string[] = [];
    const { app } = makeApp({
      middleware: [
        async (c, next) => {
          await next();
          seen.push(`${c.req.method} ${c.req.path} ${c.res.status}`);
        },
      ],
    });
    await post(app);
    await app.request('/nope');
    expect(seen).toEqual(['POST /v1/sessions 201', 'GET /nope 404']);
  });

  it('leaves room for more routes added before serving (the web page)', async () => {
    const { app } = makeApp();
    app.get('/', (c) => c.html('<h1>parley</h1>'));
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('parley');
  });
});

describe('CORS', () => {
  const origin = 'https://app.example.com';

  it('answers preflight for allowed origins and exposes Location', async () => {
    const { app } = makeApp({ corsOrigins: [origin] });
    const pre = await app.request('/v1/sessions', {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    expect(pre.headers.get('Access-Control-Allow-Methods')).toContain('POST');
    expect(pre.headers.get('Access-Control-Allow-Headers')).toMatch(/Authorization/i);

    const res = await post(app, { headers: { Origin: origin } });
    expect(res.status).toBe(201);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    expect(res.headers.get('Access-Control-Expose-Headers')).toContain('Location');

    // Errors carry CORS headers too, or a browser app could not read them.
    const denied = await post(app, { headers: { Origin: origin, Authorization: 'Bearer x' } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('Access-Control-Allow-Origin')).toBe(origin);
  });

  it('grants nothing to other origins, or when unconfigured', async () => {
    const { app } = makeApp({ corsOrigins: [origin] });
    const res = await post(app, { headers: { Origin: 'https://evil.example' } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();

    const { app: plain } = makeApp();
    const res2 = await post(plain, { headers: { Origin: origin } });
    expect(res2.status).toBe(201);
    expect(res2.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});
