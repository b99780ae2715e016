import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ANSWER,
  bearer,
  expectProblem,
  makeApp,
  OFFER,
  post,
  ROUTE,
  SECRET,
} from '../../test/signaling-app-harness.js';
import { createJwtAuthenticator, createNoAuth, mintDevToken } from './auth.js';
import type { CreateErrorCode } from './session-broker.js';

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
