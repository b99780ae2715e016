import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import {
  CloseReply,
  OfferReply,
  SessionInfoReply,
  TransceiverAnnounce,
} from '@parley/shared/nats/schemas.js';
import {
  ANNOUNCE_SUBJECT,
  closeSubject,
  offerSubject,
  sessionStateSubject,
} from '@parley/shared/nats/subjects.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { verifyToken } from '@parley/shared/token/routing-token.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
} from '@parley/shared/webrtc/werift-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransceiverConfig } from '../src/config.js';
import { srtpTotals } from '../src/rtp/media-transport.js';
import { startTransceiver, type TransceiverProcess } from '../src/transceiver-process.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const codecs = opusOnlyCodecs();

// Both socket I/O paths: the native recvmmsg/sendmmsg addon (the default where it is built, as in
// CI) and node:dgram (IPv6, or a machine without the addon).
describe.each(['recvmmsg', 'node:dgram'] as const)(
  'transceiver over NATS on %s (client talks to the transceiver port directly)',
  (io) => {
    let nats: NatsServerProcess;
    let nc: NatsConnection;
    let tx: TransceiverProcess;
    let icePort: number;

    beforeAll(async () => {
      nats = await NatsServerProcess.start();
      icePort = await freeUdpPort();
      const config = loadTransceiverConfig({
        NATS_URL: nats.url,
        PARLEY_TRANSCEIVER_ID: `tx-test-${io.replace(':', '-')}`,
        PARLEY_TOKEN_KEYS: `3:${KEY}`,
        PARLEY_ICE_PORT: String(icePort),
        PARLEY_CAPACITY: '2',
        PARLEY_UDP_IO: io,
      });
      tx = await startTransceiver(config, createLogger('tx', 'silent'));
      nc = await connect({ servers: nats.url });
    });
    afterAll(async () => {
      await tx?.close();
      await nc?.close();
      await nats?.stop();
    });

    it('announces itself with its route id and capacity', async () => {
      const sub = nc.subscribe(ANNOUNCE_SUBJECT, { max: 1 });
      for await (const m of sub) {
        const a = decodeJson(TransceiverAnnounce, m.data);
        expect(a.id).toBe(`tx-test-${io.replace(':', '-')}`);
        expect(a.routeId).toBe(tx.routeId);
        expect(a.capacity).toBe(2);
        expect(a.port).toBe(icePort);
        expect(tx.mux.io).toBe(io);
      }
    });

    it('answers an offer with a token ufrag and only the relay candidate, echoes audio, and frees the port on close', async () => {
      const client = new RTCPeerConnection({ codecs, iceServers: [] });
      const out = new MediaStreamTrack({ kind: 'audio' });
      const t = client.addTransceiver(out, { direction: 'sendrecv' });
      await client.setLocalDescription(await client.createOffer());
      const sessionId = `${tx.routeId}-${'A'.repeat(22)}`;
      const reply = decodeJson(
        OfferReply,
        (
          await nc.request(
            offerSubject(`tx-test-${io.replace(':', '-')}`),
            encodeJson({
              sessionId,
              offer: client.localDescription?.sdp,
              relay: { ip: '198.51.100.7', port: 3478 },
              // The transport reflector: payloads come back byte for byte.
              agent: 'rtp-echo',
            }),
            { timeout: 5_000 },
          )
        ).data,
      );
      if (!reply.ok) throw new Error(reply.message);
      const candidates = reply.answer.split('\r\n').filter((l) => l.startsWith('a=candidate'));
      expect(candidates).toHaveLength(1);
      expect(candidates[0]).toContain('198.51.100.7 3478 typ host');
      const ufrag = /a=ice-ufrag:(\S+)/.exec(reply.answer)?.[1] as string;
      const verified = verifyToken(
        {
          signing: { id: 3, secret: Buffer.from(KEY, 'base64') },
          byId: new Map([[3, { id: 3, secret: Buffer.from(KEY, 'base64') }]]),
        },
        ufrag,
        Math.floor(Date.now() / 1000),
      );
      expect(verified.ok).toBe(true);
      const info = decodeJson(
        SessionInfoReply,
        (
          await nc.request(
            sessionStateSubject(`tx-test-${io.replace(':', '-')}`),
            encodeJson({ sessionId }),
            {
              timeout: 2_000,
            },
          )
        ).data,
      );
      if (!info.ok) throw new Error(info.message);
      expect(info.port).toBe(icePort);

      // No relay in this test: point the client straight at the transceiver's one port.
      const direct = reply.answer.replace('198.51.100.7 3478', `127.0.0.1 ${info.port}`);
      const echoes: number[] = [];
      t.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) => echoes.push(rtp.payload.readUInt32BE(0))),
      );
      const connected = new Promise<void>((r) =>
        client.connectionStateChange.subscribe((s) => s === 'connected' && r()),
      );
      await client.setRemoteDescription({ type: 'answer', sdp: direct });
      await connected;
      const srtpBefore = { ...srtpTotals };
      for (let i = 0; i < 25; i++) {
        const p = Buffer.alloc(100);
        p.writeUInt32BE(i, 0);
        out.writeRtp(
          new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: i, timestamp: i * 960 }), p),
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(new Set(echoes).size).toBe(25);
      expect(tx.sessions.info(sessionId)).toMatchObject({
        ok: true,
        state: 'connected',
        packetsIn: 25,
        packetsOut: 25,
      });
      // werift only did the handshake: every packet went through Parley's own SRTP both ways.
      expect(srtpTotals.rtpIn - srtpBefore.rtpIn).toBe(25);
      expect(srtpTotals.rtpOut - srtpBefore.rtpOut).toBe(25);
      expect(srtpTotals.dropped - srtpBefore.dropped).toBe(0);

      const closed = decodeJson(
        CloseReply,
        (
          await nc.request(closeSubject(`tx-test-${io.replace(':', '-')}`), encodeJson({ sessionId }), {
            timeout: 2_000,
          })
        ).data,
      );
      expect(closed.ok).toBe(true);
      expect(tx.sessions.count).toBe(0);
      // The session's ufrag no longer opens the socket: a check naming it would be dropped as unknown.
      expect(tx.mux.sessions).toBe(0);
      expect(tx.mux.counters.rejectedAdmission).toBe(0);
      await client.close();
    });

    it('answers a request that is not an offer with bad_offer instead of silence', async () => {
      const bad = decodeJson(
        OfferReply,
        (
          await nc.request(offerSubject(`tx-test-${io.replace(':', '-')}`), encodeJson({ nope: 1 }), {
            timeout: 2_000,
          })
        ).data,
      );
      expect(bad).toMatchObject({ ok: false, code: 'bad_offer' });
    });
  },
);
