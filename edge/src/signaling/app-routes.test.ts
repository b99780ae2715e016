import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { describe, expect, it } from 'vitest';
import { expectProblem, makeApp, post, ROUTE } from '../../test/signaling-app-harness.js';
import type { HealthStatus } from './app.js';

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
    // PATCH is WHIP's ICE restart (ice-restart-route.test.ts); PUT is not a thing here.
    const put = await app.request(`/v1/sessions/${newSessionId(ROUTE)}`, { method: 'PUT' });
    await expectProblem(put, 405);
    expect(put.headers.get('Allow')).toBe('DELETE, PATCH');
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
