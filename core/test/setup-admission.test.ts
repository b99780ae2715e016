import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { OfferReply, SessionInfoReply } from '@parley/shared/nats/schemas.js';
import { offerSubject, sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransceiverConfig } from '../src/config.js';
import { startTransceiver, type TransceiverProcess } from '../src/transceiver-process.js';

const ID = 'tx-admission';

// One setup at a time, one offer may wait 400 ms, a never-connecting session gives its slot back after 1.5 s.
describe('setup admission on a real transceiver (offers over NATS, werift clients)', () => {
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  let tx: TransceiverProcess;
  const clients: RTCPeerConnection[] = [];

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    const icePort = await freeUdpPort();
    tx = await startTransceiver(
      loadTransceiverConfig({
        NATS_URL: nats.url,
        PARLEY_TRANSCEIVER_ID: ID,
        PARLEY_TOKEN_KEYS: `1:${Buffer.alloc(32, 3).toString('base64')}`,
        PARLEY_ICE_PORT: String(icePort),
        PARLEY_SETUP_CONCURRENCY: '1',
        PARLEY_SETUP_QUEUE: '1',
        PARLEY_SETUP_QUEUE_TIMEOUT_MS: '400',
        PARLEY_SETUP_HOLD_MS: '1500',
      }),
      createLogger('tx', 'silent'),
    );
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await tx?.close();
    await nc?.close();
    await nats?.stop();
  });

  let n = 0;
  async function offer(): Promise<{
    sessionId: string;
    client: RTCPeerConnection;
    reply: Promise<OfferReply>;
  }> {
    const client = new RTCPeerConnection({ iceServers: [] });
    clients.push(client);
    client.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
    await client.setLocalDescription(await client.createOffer());
    const sessionId = `${tx.routeId}-${String(++n).padStart(22, 'A')}`;
    const reply = nc
      .request(
        offerSubject(ID),
        encodeJson({
          sessionId,
          offer: client.localDescription?.sdp,
          relay: { ip: '127.0.0.1', port: 9 },
          agent: 'rtp-echo',
        }),
        { timeout: 5_000 },
      )
      .then((m) => decodeJson(OfferReply, m.data));
    return { sessionId, client, reply };
  }

  it('runs one setup, queues one offer, refuses the next, and times the queued one out', async () => {
    const a = await offer();
    expect((await a.reply).ok).toBe(true);
    const b = await offer();
    const c = await offer();
    const cReply = await c.reply;
    expect(cReply).toMatchObject({ ok: false, code: 'no_capacity' });
    expect(cReply.ok ? '' : cReply.message).toMatch(/busy: 1 setups running and 1 waiting/);
    const t0 = performance.now();
    const bReply = await b.reply;
    expect(bReply).toMatchObject({ ok: false, code: 'no_capacity' });
    expect(bReply.ok ? '' : bReply.message).toContain('no setup slot within 400 ms');
    expect(performance.now() - t0).toBeGreaterThan(300);
    expect(tx.sessions.admission.stats()).toMatchObject({
      running: 1,
      refusedQueueFull: 1,
      refusedWaitTimeout: 1,
    });
  });

  it('gives a slot back when its session connects, so the queued offer is answered at once', async () => {
    // The first test's session never connects; wait for its slot to be reclaimed.
    await new Promise((r) => setTimeout(r, 1_600));
    expect(tx.sessions.admission.stats()).toMatchObject({ running: 0, reclaimed: 1 });

    const a = await offer();
    const aReply = await a.reply;
    if (!aReply.ok) throw new Error(aReply.message);
    const waiting = await offer();
    // Connect the first session straight to its port (no relay here); DTLS up frees the slot.
    const info = decodeJson(
      SessionInfoReply,
      (await nc.request(sessionStateSubject(ID), encodeJson({ sessionId: a.sessionId }), { timeout: 2_000 }))
        .data,
    );
    if (!info.ok) throw new Error(info.message);
    const connected = new Promise<void>((r) =>
      a.client.connectionStateChange.subscribe((s) => s === 'connected' && r()),
    );
    await a.client.setRemoteDescription({
      type: 'answer',
      sdp: aReply.answer.replace('127.0.0.1 9', `127.0.0.1 ${info.port}`),
    });
    await connected;
    const t0 = performance.now();
    const wReply = await waiting.reply;
    expect(wReply.ok).toBe(true);
    // Well before the 1.5 s hold limit: the connection, not the timer, freed the slot.
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(tx.sessions.admission.stats().reclaimed).toBe(1);
  });
});
