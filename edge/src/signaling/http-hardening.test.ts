import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from './auth.js';
import { loadSignalingConfig } from './config.js';
import { type SignalingServer, startSignalingServer } from './server.js';

// Real HTTP/1.1 keep-alive clients against the real server: what an early
// error response does to the connection is invisible to app.request().
const SECRET = 'http-hardening-secret-with-at-least-32-chars';
const OFFER = readFileSync(new URL('./__fixtures__/werift-offer.sdp', import.meta.url), 'utf8');
const log = pino({ level: 'silent' });
const MAX_OFFER = 4096;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Which TCP connection carried it (1, 2, ... per agent). */
  connection: number;
}

const connectionIds = new WeakMap<Socket, number>();
let nextConnection = 1;

/** One request on a keep-alive agent; the body is written in chunks of 16 KiB. */
function send(
  agent: Agent,
  base: string,
  opts: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer;
    chunked?: boolean;
    /** Wait this long after the first 16 KiB of the body (a slow uplink). */
    pauseMs?: number;
  },
): Promise<Reply> {
  const url = new URL(opts.path, base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body && !opts.chunked) headers['Content-Length'] = String(opts.body.length);
    const req = httpRequest(url, { agent, method: opts.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          connection: connectionIds.get(req.socket as Socket) ?? 0,
        }),
      );
      res.on('error', reject);
    });
    req.on('socket', (s) => {
      if (!connectionIds.has(s)) connectionIds.set(s, nextConnection++);
    });
    req.on('error', reject);
    const body = opts.body ?? Buffer.alloc(0);
    const rest = () => {
      for (let i = 16_384; i < body.length; i += 16_384) req.write(body.subarray(i, i + 16_384));
      req.end();
    };
    req.write(body.subarray(0, 16_384));
    if (opts.pauseMs) setTimeout(rest, opts.pauseMs);
    else rest();
  });
}

/** A raw TCP client: writes what it is given, collects everything until the server closes. */
function raw(port: number): { socket: Socket; received: Promise<{ text: string; closedAfterMs: number }> } {
  const started = performance.now();
  const socket = netConnect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d) => {
    text += d;
  });
  const received = new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
    socket.on('close', () => resolve({ text, closedAfterMs: performance.now() - started }));
    socket.on('error', () => undefined);
  });
  return { socket, received };
}

function problemOf(text: string): { status: number; contentType: string | undefined; body: unknown } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const contentType = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1];
  return { status, contentType, body: body ? JSON.parse(body) : undefined };
}

describe('HTTP connections survive errors (real keep-alive clients, real nats-server)', () => {
  let nats: NatsServerProcess;
  let server: SignalingServer;
  let token: string;
  let agent: Agent;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    const config = loadSignalingConfig({
      PARLEY_HTTP_HOST: '127.0.0.1',
      PARLEY_HTTP_PORT: '0',
      PARLEY_RELAY_ADVERTISE: '192.0.2.10:3478',
      PARLEY_AUTH_JWT_SECRET: SECRET,
      PARLEY_MAX_OFFER_BYTES: String(MAX_OFFER),
      PARLEY_HTTP_HEADERS_TIMEOUT_MS: '600',
      PARLEY_HTTP_REQUEST_TIMEOUT_MS: '1200',
      PARLEY_HTTP_MAX_IN_FLIGHT: '3',
      NATS_URL: nats.url,
    });
    server = await startSignalingServer(config, { log });
    token = await mintDevToken(SECRET, { subject: 'alice', ttlSeconds: 60 });
  });
  afterAll(async () => {
    await server?.close();
    await nats?.stop();
  });
  afterEach(() => agent?.destroy());

  const newAgent = () => {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return agent;
  };
  const sdpPost = (body: Buffer, extra: Record<string, string> = {}) => ({
    method: 'POST',
    path: '/v1/sessions',
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}`, ...extra },
    body,
  });

  it('drains a body just over the limit after 413 and keeps the same connection', async () => {
    const a = newAgent();
    const first = await send(a, server.url, sdpPost(Buffer.alloc(MAX_OFFER + 100, 'a')));
    expect(first.status).toBe(413);
    expect(first.headers['content-type']).toBe('application/problem+json');
    expect(first.headers.connection).toBe('keep-alive');
    const next = await send(a, server.url, { path: '/livez' });
    expect(next.status).toBe(200);
    expect(next.connection).toBe(first.connection);
  });

  it('keeps draining a body that arrives slowly after the 413 (not a fixed 500 ms), same connection', async () => {
    const a = newAgent();
    const first = await send(a, server.url, { ...sdpPost(Buffer.alloc(20_000, 'a')), pauseMs: 700 });
    expect(first.status).toBe(413);
    const next = await send(a, server.url, { path: '/livez' });
    expect(next.status).toBe(200);
    expect(next.connection).toBe(first.connection);
  });

  it('says Connection: close on 413 for a body too large to drain, and the next request works', async () => {
    const a = newAgent();
    const first = await send(a, server.url, sdpPost(Buffer.alloc(1024 * 1024, 'a')));
    expect(first.status).toBe(413);
    expect(first.headers.connection).toBe('close');
    const next = await send(a, server.url, { path: '/livez' });
    expect(next.status).toBe(200);
    expect(next.connection).not.toBe(first.connection);
  });

  it('handles a chunked body over the limit (no Content-Length) without breaking the next request', async () => {
    const a = newAgent();
    const first = await send(a, server.url, { ...sdpPost(Buffer.alloc(200_000, 'a')), chunked: true });
    expect(first.status).toBe(413);
    expect((await send(a, server.url, { path: '/livez' })).status).toBe(200);
  });

  it.each([
    ['415 (wrong content type)', { 'Content-Type': 'text/plain' }, 415],
    ['401 (no token)', { Authorization: '' }, 401],
  ])('keeps the connection usable after %s with an unread body', async (_name, headers, status) => {
    const a = newAgent();
    for (const size of [1000, 600_000]) {
      const first = await send(a, server.url, sdpPost(Buffer.alloc(size, 'a'), headers));
      expect(first.status).toBe(status);
      expect((await send(a, server.url, { path: '/livez' })).status).toBe(200);
    }
  });

  it('keeps the global fetch (undici) pool usable after a 413', async () => {
    const big = await fetch(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
      body: 'a'.repeat(MAX_OFFER + 1),
    });
    expect(big.status).toBe(413);
    await big.text();
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/livez`)).status).toBe(200);
  });

  it('answers oversized headers with 431 problem+json', async () => {
    const c = raw(server.port);
    c.socket.write(`GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const p = problemOf((await c.received).text);
    expect(p).toEqual({
      status: 431,
      contentType: 'application/problem+json',
      body: expect.objectContaining({ status: 431, title: 'Request Header Fields Too Large' }),
    });
  });

  it('answers a malformed request with 400 problem+json', async () => {
    const c = raw(server.port);
    c.socket.write('NOT HTTP AT ALL\r\n\r\n');
    const p = problemOf((await c.received).text);
    expect(p.status).toBe(400);
    expect(p.contentType).toBe('application/problem+json');
    expect(p.body).toMatchObject({ status: 400, type: 'about:blank' });
  });

  it('closes a connection whose headers trickle in, after the headers timeout, with 408', async () => {
    const c = raw(server.port);
    c.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => c.socket.write('X-Slow: 1\r\n'), 100);
    const { text, closedAfterMs } = await c.received;
    clearInterval(timer);
    expect(problemOf(text).status).toBe(408);
    // 600 ms timeout, checked every 150 ms; far below Node's 60 s default.
    expect(closedAfterMs).toBeLessThan(3_000);
  });

  it('closes a request whose body trickles in, after the request timeout', async () => {
    const c = raw(server.port);
    c.socket.write(
      `POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n` +
        `Authorization: Bearer ${token}\r\nContent-Length: 3000\r\n\r\nv=0\r\n`,
    );
    const timer = setInterval(() => c.socket.write('a'), 100);
    const { closedAfterMs } = await c.received;
    clearInterval(timer);
    expect(closedAfterMs).toBeLessThan(4_000);
  });

  it('refuses requests beyond the in-flight cap with 503 problem+json while slow ones hold it', async () => {
    const slow = [raw(server.port), raw(server.port), raw(server.port)];
    for (const c of slow)
      c.socket.write(
        `POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n` +
          `Authorization: Bearer ${token}\r\nContent-Length: 3000\r\n\r\nv=0\r\n`,
      );
    await new Promise((r) => setTimeout(r, 200));
    const refused = await send(newAgent(), server.url, { path: '/livez' });
    expect(refused.status).toBe(503);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.headers['retry-after']).toBe('1');
    // The slow ones time out and free their slots.
    await Promise.all(slow.map((c) => c.received));
    expect((await send(newAgent(), server.url, { path: '/livez' })).status).toBe(200);
  });

  it('still serves a whole offer on a kept-alive connection after errors', async () => {
    const a = newAgent();
    expect((await send(a, server.url, sdpPost(Buffer.alloc(MAX_OFFER + 1, 'a')))).status).toBe(413);
    // No transceiver: 503 from the broker, after the whole body was read and checked.
    const r = await send(a, server.url, sdpPost(Buffer.from(OFFER)));
    expect(r.status).toBe(503);
    expect(r.headers['content-type']).toBe('application/problem+json');
  });
});
