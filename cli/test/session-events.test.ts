import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mintDevToken } from '@parley/edge/signaling/auth.js';
import { loadSignalingConfig } from '@parley/edge/signaling/config.js';
import { type SignalingServer, startSignalingServer } from '@parley/edge/signaling/server.js';
import { watchSessionEvents } from '@parley/loadtest/call/session-events-client.js';
import { spawnTied } from '@parley/shared/lifecycle/spawn-tied.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { isRunning } from '@parley/shared/testing/process-table.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real transceiver process behind a real edge over a real nats-server: the
// edge must tell a session's client that it ended even when the transceiver
// dies without a word (SIGKILL), which the data channel cannot.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = 'session-events-test-secret-at-least-32-chars';
const OFFER = readFileSync(
  new URL('../../edge/src/signaling/__fixtures__/chrome-offer.sdp', import.meta.url),
  'utf8',
).replace(/\r?\n/g, '\r\n');
/** Discovery forgets a transceiver 3.5 s after its last announcement; the edge checks every 250 ms. */
const LOST_BOUND_MS = 5_000;

describe('session.ended from the edge (GET <session URL>/events)', { timeout: 60_000 }, () => {
  let nats: NatsServerProcess;
  let tx: ChildProcess;
  let edge: SignalingServer;
  /** A second replica of the same edge: it did not place the sessions, and must adopt them. */
  let replica: SignalingServer;
  let token: string;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    tx = spawnTied(
      process.execPath,
      [MAIN, 'transceiver'],
      {
        env: {
          ...process.env,
          NATS_URL: nats.url,
          PARLEY_TRANSCEIVER_ID: `events-${process.pid}`,
          PARLEY_CLUSTER: 'core-test',
          PARLEY_TOKEN_KEYS: `1:${KEY}`,
          PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
          PARLEY_ICE_PORT: String(await freeUdpPort()),
          PARLEY_METRICS_PORT: '0',
          PARLEY_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
      'KILL',
    );
    await new Promise<void>((resolve, reject) => {
      let err = '';
      tx.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (/parley transceiver ready/.test(err)) resolve();
      });
      tx.once('exit', (code) => reject(new Error(`transceiver exited ${code}: ${err}`)));
    });
    const startEdge = async () =>
      startSignalingServer(
        loadSignalingConfig({
          PARLEY_HTTP_HOST: '127.0.0.1',
          PARLEY_HTTP_PORT: String(await freeTcpPort()),
          PARLEY_RELAY_ADVERTISE: '127.0.0.1:3478',
          PARLEY_CLUSTER: 'core-test',
          PARLEY_AUTH_JWT_SECRET: SECRET,
          // Far shorter than a stream lasts here: the request timers must not cut an open event stream.
          PARLEY_HTTP_HEADERS_TIMEOUT_MS: '1000',
          PARLEY_HTTP_REQUEST_TIMEOUT_MS: '1000',
          NATS_URL: nats.url,
        }),
        { log: pino({ level: 'silent' }) },
      );
    [edge, replica] = await Promise.all([startEdge(), startEdge()]);
    token = await mintDevToken(SECRET, { subject: 'carol', ttlSeconds: 300 });
    const health = async () => (await fetch(`${edge.url}/healthz`)).status;
    for (let i = 0; i < 100 && (await health()) !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  }, 60_000);

  afterAll(async () => {
    if (tx?.pid && isRunning(tx.pid)) tx.kill('SIGKILL');
    await Promise.all([edge?.close(), replica?.close()]);
    await nats?.stop();
  });

  const place = async (): Promise<string> => {
    const res = await fetch(`${edge.url}/v1/sessions?agent=rtp-echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
      body: OFFER,
    });
    expect(res.status).toBe(201);
    await res.text();
    return new URL(res.headers.get('location') ?? '', edge.url).toString();
  };

  it("passes on the transceiver's own end (DELETE → session.ended deleted)", async () => {
    const url = await place();
    const watch = watchSessionEvents(url, token);
    // The stream is open (200) before the session ends.
    for (let i = 0; i < 100 && watch.status() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(watch.status()).toBe(200);
    const del = await fetch(url, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect(del.status).toBe(200);
    const ended = await Promise.race([
      watch.ended,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 3_000)),
    ]);
    expect(ended).toMatchObject({ type: 'session.ended', reason: 'deleted' });
  });

  it(`says transceiver_lost within ${LOST_BOUND_MS} ms of the transceiver's SIGKILL, and GET shows it`, async () => {
    const url = await place();
    const auth = { Authorization: `Bearer ${token}` };
    expect(await (await fetch(url, { headers: auth })).json()).toEqual({
      state: 'active',
      cluster: 'core-test',
    });
    const watch = watchSessionEvents(url, token);
    // The same session URL on the other replica: it asks the transceiver, then watches too.
    const viaReplica = watchSessionEvents(url.replace(edge.url, replica.url), token);
    for (let i = 0; i < 100 && (watch.status() === 0 || viaReplica.status() === 0); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect([watch.status(), viaReplica.status()]).toEqual([200, 200]);

    const killedAt = performance.now();
    tx.kill('SIGKILL');
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), LOST_BOUND_MS + 2_000));
    const ended = await Promise.race([watch.ended, timeout]);
    const tookMs = performance.now() - killedAt;
    expect(ended).toMatchObject({ type: 'session.ended', reason: 'transceiver_lost' });
    expect(tookMs).toBeLessThan(LOST_BOUND_MS);
    expect(await Promise.race([viaReplica.ended, timeout])).toMatchObject({ reason: 'transceiver_lost' });
    expect(await (await fetch(url, { headers: auth })).json()).toEqual({
      state: 'ended',
      cluster: 'core-test',
      reason: 'transceiver_lost',
    });
    // A client that reconnects its stream after the end still hears it.
    const again = await fetch(`${url}/events`, { headers: auth });
    expect(await again.text()).toContain('"reason":"transceiver_lost"');
    // Someone else's token cannot read it.
    const other = await mintDevToken(SECRET, { subject: 'mallory', ttlSeconds: 60 });
    const denied = await fetch(`${url}/events`, { headers: { Authorization: `Bearer ${other}` } });
    expect(denied.status).toBe(404);
    expect(denied.headers.get('content-type')).toBe('application/problem+json');
    await denied.text();
  });
});
