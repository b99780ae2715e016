import { readFileSync } from 'node:fs';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, FAKE_ANSWER, FakeTransceiver } from '../../test/fake-transceiver.js';
import { mintDevToken } from './auth.js';
import { loadSignalingConfig } from './config.js';
import { type SignalingServer, startSignalingServer } from './server.js';

const SECRET = 'server-test-secret-with-at-least-32-chars';
const OFFER = readFileSync(new URL('./__fixtures__/werift-offer.sdp', import.meta.url), 'utf8');
const log = pino({ level: 'silent' });

async function healthOf(server: SignalingServer): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('startSignalingServer (real HTTP, real nats-server)', () => {
  let nats: NatsServerProcess;
  let server: SignalingServer | undefined;
  let fake: FakeTransceiver | undefined;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
  });
  afterAll(async () => {
    await server?.close();
    await fake?.stop();
    await nats?.stop();
  });

  it('serves offers and hangups end to end, reports health, and closes', async () => {
    const config = loadSignalingConfig({
      PARLEY_HTTP_HOST: '127.0.0.1',
      PARLEY_HTTP_PORT: '0',
      PARLEY_RELAY_ADVERTISE: '192.0.2.10:3478',
      PARLEY_AUTH_JWT_SECRET: SECRET,
      PARLEY_OFFER_TIMEOUT_MS: '1000',
      NATS_URL: nats.url,
    });
    server = await startSignalingServer(config, { log });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);

    // Up, but no transceiver yet: a load balancer should send offers elsewhere.
    expect(await healthOf(server)).toEqual({
      status: 503,
      body: { status: 'unavailable', transceivers: 0, detail: 'no transceivers in cluster "local"' },
    });

    fake = await FakeTransceiver.start(nats.url, 'tx-server-test');
    fake.announce();
    await eventually(async () => expect((await healthOf(server as SignalingServer)).status).toBe(200));
    const srv = server;
    expect((await healthOf(srv)).body).toEqual({ status: 'ok', transceivers: 1 });

    const token = await mintDevToken(SECRET, { subject: 'e2e', ttlSeconds: 60 });
    const created = await fetch(`${srv.url}/v1/sessions?agent=echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
      body: OFFER,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('Content-Type')).toBe('application/sdp');
    expect(await created.text()).toBe(FAKE_ANSWER);
    const location = created.headers.get('Location') as string;
    // The session id, then a 128-bit tag binding the URL to the token's subject.
    expect(location).toMatch(/^\/v1\/sessions\/[0-9a-f]{12}-[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    const sessionId = (fake.offers[0]?.request.sessionId ?? '') as string;
    expect(location).toContain(sessionId);

    // Another signed-in user, or anyone holding only the bare session id, cannot end it.
    const mallory = await mintDevToken(SECRET, { subject: 'mallory', ttlSeconds: 60 });
    for (const [path, bearer] of [
      [location, mallory],
      [`/v1/sessions/${sessionId}`, token],
      [`/v1/sessions/${sessionId}`, mallory],
    ] as const) {
      const refused = await fetch(`${srv.url}${path}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${bearer}` },
      });
      expect(refused.status).toBe(404);
      expect(refused.headers.get('Content-Type')).toBe('application/problem+json');
    }
    expect(fake.sessions.has(sessionId)).toBe(true);
    expect(fake.closes).toEqual([]);
    expect(fake.offers[0]?.request).toMatchObject({
      relay: { ip: '192.0.2.10', port: 3478 },
      agent: 'echo',
      subject: 'e2e',
    });

    const deleted = await fetch(`${srv.url}${location}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(deleted.status).toBe(200);
    expect(fake.sessions.size).toBe(0);

    // The only transceiver drains: this edge can place nothing, so it leaves rotation.
    fake.state = { draining: true };
    fake.announce();
    await eventually(async () =>
      expect(await healthOf(srv)).toEqual({
        status: 503,
        body: { status: 'unavailable', transceivers: 0, detail: 'every transceiver is draining' },
      }),
    );
    fake.state = {};
    fake.announce();
    await eventually(async () => expect((await healthOf(srv)).status).toBe(200));

    const unauthorized = await fetch(`${srv.url}/v1/sessions`, { method: 'POST', body: OFFER });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('Content-Type')).toBe('application/problem+json');

    // A second server cannot take the same port, and says so instead of hanging.
    await expect(
      startSignalingServer({ ...config, http: { ...config.http, port: srv.port } }, { log }),
    ).rejects.toThrow(/EADDRINUSE/);

    await srv.close();
    server = undefined;
    await expect(fetch(`${srv.url}/healthz`)).rejects.toThrow();
  });

  it('turns unhealthy while NATS is down', async () => {
    const config = loadSignalingConfig({
      PARLEY_HTTP_HOST: '127.0.0.1',
      PARLEY_HTTP_PORT: '0',
      PARLEY_RELAY_ADVERTISE: '192.0.2.10:3478',
      PARLEY_AUTH: 'off',
      NATS_URL: nats.url,
    });
    server = await startSignalingServer(config, { log });
    await nats.stop();
    await eventually(async () => {
      const h = await healthOf(server as SignalingServer);
      expect(h).toEqual({ status: 503, body: expect.objectContaining({ detail: 'NATS disconnected' }) });
    }, 5_000);
    await nats.restart();
    await eventually(async () => {
      const h = await healthOf(server as SignalingServer);
      expect(h.body.detail).not.toBe('NATS disconnected');
    }, 10_000);
  });
});
