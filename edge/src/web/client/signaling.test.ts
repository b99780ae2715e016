import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallFailure } from './failures.js';
import { createSession, endSession, failureFromResponse, readProblem } from './signaling.js';

// A real HTTP server on loopback playing the edge, so fetch, headers and
// bodies are the real thing.
describe('WHIP-style signaling client', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; url?: string; auth?: string; type?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          auth: req.headers.authorization,
          type: req.headers['content-type'],
          body,
        });
        if (req.url?.startsWith('/v1/sessions?agent=hang')) return; // never answers
        if (req.method === 'DELETE') {
          res.writeHead(200).end();
        } else if (req.headers.authorization !== 'Bearer good') {
          res.writeHead(401, { 'Content-Type': 'application/problem+json' }).end(
            JSON.stringify({
              type: 'about:blank',
              title: 'Unauthorized',
              status: 401,
              detail: 'token expired',
            }),
          );
        } else if (req.url?.includes('agent=busy')) {
          res
            .writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '5' })
            .end(JSON.stringify({ title: 'No capacity', status: 503, detail: 'all transceivers are full' }));
        } else {
          res
            .writeHead(201, { 'Content-Type': 'application/sdp', Location: '/v1/sessions/abc-123' })
            .end('v=0\r\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const target = (token?: string) => ({ fetch, edgeUrl: base, ...(token && { token }) });

  it('POSTs the offer as application/sdp with the bearer token and returns the absolute session URL', async () => {
    const s = await createSession(target('good'), { offer: 'v=0\r\noffer', agent: 'echo' });
    expect(s).toEqual({ sessionUrl: `${base}/v1/sessions/abc-123`, answer: 'v=0\r\n' });
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/v1/sessions?agent=echo',
      auth: 'Bearer good',
      type: 'application/sdp',
      body: 'v=0\r\noffer',
    });
  });

  it('401 becomes an unauthorized failure with the problem detail', async () => {
    const err = await createSession(target('bad'), { offer: 'v=0' }).catch((e) => e);
    expect(err).toBeInstanceOf(CallFailure);
    expect(err).toMatchObject({ kind: 'unauthorized', info: { status: 401, detail: 'token expired' } });
  });

  it('503 carries Retry-After', async () => {
    const err = await createSession(target('good'), { offer: 'v=0', agent: 'busy' }).catch((e) => e);
    expect(err).toMatchObject({
      kind: 'unavailable',
      info: { detail: 'all transceivers are full', retryAfterSeconds: 5 },
    });
  });

  it('an edge that accepts the connection but never answers times out as unreachable', async () => {
    const err = await createSession(target('good'), { offer: 'v=0', agent: 'hang', timeoutMs: 200 }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({
      kind: 'edge-unreachable',
      info: { detail: 'no answer within 200 ms', edge: base },
    });
  });

  it('a closed port is unreachable; a caller abort is a cancel, not an error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await createSession({ fetch, edgeUrl: `http://127.0.0.1:${port}` }, { offer: 'v=0' }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ kind: 'edge-unreachable' });

    const abort = new AbortController();
    const pending = createSession(target('good'), { offer: 'v=0', agent: 'hang', signal: abort.signal });
    abort.abort();
    expect(await pending.catch((e) => e)).toMatchObject({ kind: 'cancelled' });
  });

  it('DELETE sends the token and reports the status; a network error is undefined, not a throw', async () => {
    expect(await endSession({ fetch, token: 'good' }, `${base}/v1/sessions/abc-123`)).toBe(200);
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/v1/sessions/abc-123', auth: 'Bearer good' });
    expect(await endSession({ fetch }, 'http://127.0.0.1:1/v1/sessions/x')).toBeUndefined();
  });
});

describe('readProblem / failureFromResponse', () => {
  it('reads title and detail from problem+json', async () => {
    const res = new Response(JSON.stringify({ title: 'Bad Request', detail: 'offer has no audio' }), {
      status: 400,
      headers: { 'Content-Type': 'application/problem+json' },
    });
    expect(await readProblem(res)).toEqual({ title: 'Bad Request', detail: 'offer has no audio' });
  });

  it('falls back to a short text body, and to nothing for an empty one', async () => {
    const long = 'x'.repeat(500);
    expect(await readProblem(new Response(long, { status: 502 }))).toEqual({ detail: 'x'.repeat(200) });
    expect(
      await readProblem(new Response('{not json', { headers: { 'Content-Type': 'application/json' } })),
    ).toEqual({ detail: '{not json' });
    expect(await readProblem(new Response('', { status: 500 }))).toEqual({});
  });

  it('maps statuses to failure kinds; a bogus Retry-After is ignored', () => {
    const h = (v?: string) => new Headers(v ? { 'Retry-After': v } : {});
    expect(failureFromResponse(403, {}, h()).kind).toBe('unauthorized');
    expect(failureFromResponse(503, {}, h('soon')).info.retryAfterSeconds).toBeUndefined();
    expect(failureFromResponse(502, { title: 'Transceiver error' }, h()).info).toEqual({
      status: 502,
      detail: 'Transceiver error',
    });
  });
});
