import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { TransceiverProcess } from '@parley/core/transceiver-process.js';
import { loadSignalingConfig } from '@parley/edge/signaling/config.js';
import { type SignalingServer, startSignalingServer } from '@parley/edge/signaling/server.js';
import { spawnTied } from '@parley/shared/lifecycle/spawn-tied.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { CloseReply, OfferReply, TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT, closeSubject, offerSubject } from '@parley/shared/nats/subjects.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { isRunning, waitUntilGone } from '@parley/shared/testing/process-table.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, openCall, type TestCall } from '../../core/test/support/call-harness.js';

// The drain as an operator triggers it: SIGTERM to a real transceiver process
// carrying live werift calls, watched by a real edge over a real nats-server.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const KEY = Buffer.alloc(32, 5).toString('base64');
const DRAIN_MS = 2_500;

describe('transceiver drain on SIGTERM, with live calls', { timeout: 90_000 }, () => {
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  let tx: ChildProcess;
  let edge: SignalingServer;
  let info: { id: string; routeId: string; engines: Record<string, string> };
  const announcements: { at: number; a: TransceiverAnnounce }[] = [];

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    nc = await connect({ servers: nats.url });
    nc.subscribe(ANNOUNCE_SUBJECT, {
      callback: (_e, m) => {
        announcements.push({ at: performance.now(), a: decodeJson(TransceiverAnnounce, m.data) });
      },
    });
    tx = spawnTied(
      process.execPath,
      [MAIN, 'transceiver'],
      {
        env: {
          ...process.env,
          NATS_URL: nats.url,
          PARLEY_TRANSCEIVER_ID: `drain-${process.pid}`,
          PARLEY_TOKEN_KEYS: `1:${KEY}`,
          PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
          PARLEY_ICE_PORT: String(await freeUdpPort()),
          PARLEY_METRICS_PORT: '0',
          PARLEY_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
          PARLEY_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
      'KILL',
    );
    info = await new Promise((resolve, reject) => {
      let err = '';
      tx.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /parley transceiver ready (\{.*\})/.exec(err);
        if (m?.[1]) resolve(JSON.parse(m[1]));
      });
      tx.once('exit', (code) => reject(new Error(`transceiver exited ${code}: ${err}`)));
    });
    edge = await startSignalingServer(
      loadSignalingConfig({
        PARLEY_HTTP_HOST: '127.0.0.1',
        PARLEY_HTTP_PORT: String(await freeTcpPort()),
        PARLEY_RELAY_ADVERTISE: '127.0.0.1:3478',
        PARLEY_AUTH: 'off',
        NATS_URL: nats.url,
      }),
      { log: pino({ level: 'silent' }) },
    );
  }, 180_000);

  afterAll(async () => {
    if (tx?.pid && isRunning(tx.pid)) tx.kill('SIGKILL');
    await edge?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('refuses new offers, keeps live calls until they end or the drain times out, then ends them with a reason', async () => {
    // The ready line names the engines its fast paths run on, so a bench can tell a JS fallback.
    expect(['libopus', 'wasm']).toContain(info.engines.opus);
    expect(['recvmmsg', 'node:dgram']).toContain(info.engines.io);
    expect(['openssl', 'libsrtp2', 'node:crypto']).toContain(info.engines.srtpGcm);
    // openCall needs only the transceiver's id and route id and a NATS connection.
    const h = { tx: info as unknown as TransceiverProcess, nc } as unknown as Harness;
    const health = async () => (await fetch(`${edge.url}/healthz`)).status;
    for (let i = 0; i < 100 && (await health()) !== 200; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await health()).toBe(200);

    const leaving = await openCall(h, { agent: 'rtp-echo', dataChannel: true });
    const staying = await openCall(h, { agent: 'rtp-echo', dataChannel: true });
    const echoes = async (call: TestCall) => {
      const before = call.received.length;
      for (let i = 0; i < 10; i++) {
        call.sendRaw(Buffer.from([0xf8, 0xff, 0xfe, i]));
        await new Promise((r) => setTimeout(r, 20));
      }
      for (let i = 0; i < 50 && call.received.length < before + 10; i++)
        await new Promise((r) => setTimeout(r, 20));
      return call.received.length - before;
    };
    expect(await echoes(staying)).toBe(10);

    const sigterm = performance.now();
    tx.kill('SIGTERM');
    const exited = new Promise<number>((r) => tx.once('exit', () => r(performance.now())));

    // The edge stops choosing it within one announcement: the first one after SIGTERM says draining,
    // and from then on the edge is not ready and places nothing there.
    for (let i = 0; i < 100 && !announcements.some((x) => x.at > sigterm); i++)
      await new Promise((r) => setTimeout(r, 10));
    const first = announcements.find((x) => x.at > sigterm);
    expect(first?.a).toMatchObject({ id: info.id, draining: true, sessions: 2 });
    expect(await health()).toBe(503);
    const post = await fetch(`${edge.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    expect(post.status).toBeGreaterThanOrEqual(400);

    // Asked directly, it refuses too.
    const direct = decodeJson(
      OfferReply,
      (
        await nc.request(
          offerSubject(info.id),
          encodeJson({ sessionId: `${info.routeId}-x`, offer: 'v=0', relay: { ip: '127.0.0.1', port: 1 } }),
          { timeout: 2_000 },
        )
      ).data,
    );
    expect(direct).toMatchObject({ ok: false, code: 'draining' });

    // Live calls keep their media while draining.
    expect(await echoes(staying)).toBe(10);
    expect(await echoes(leaving)).toBe(10);

    // One call ends on its own (the client hangs up); the other is still there at the deadline.
    const closed = decodeJson(
      CloseReply,
      (
        await nc.request(closeSubject(info.id), encodeJson({ sessionId: leaving.sessionId }), {
          timeout: 2_000,
        })
      ).data,
    );
    expect(closed).toEqual({ ok: true });
    expect((await leaving.waitForEvent('session.ended', 2_000)).reason).toBe('deleted');

    const ended = await staying.waitForEvent('session.ended', DRAIN_MS + 3_000);
    const endedAfter = performance.now() - sigterm;
    expect(ended.reason).toBe('shutdown');
    expect(endedAfter).toBeGreaterThan(DRAIN_MS - 200);
    // The drain timer plus a loaded machine's delay in handling the signal and sending the event.
    expect(endedAfter).toBeLessThan(DRAIN_MS + 4_000);

    const exitAt = await exited;
    expect(await waitUntilGone([tx.pid as number], 1_000)).toEqual([]);
    console.log(
      `draining announced ${Math.round((first?.at ?? 0) - sigterm)} ms after SIGTERM; ` +
        `session.ended(shutdown) at ${Math.round(endedAfter)} ms; exit at ${Math.round(exitAt - sigterm)} ms`,
    );
    await leaving.close();
    await staying.close();
  });
});
