import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { SrtpProfile } from '@parley/shared/srtp/profiles.js';
import { createSrtpTransform } from '@parley/shared/srtp/srtp-engine.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBindingRequest } from '../ice/stun-guard.js';
import { MediaTransport } from '../rtp/media-transport.js';
import { DgramDatagramSocket, ipv4ToU32 } from './datagram-socket.js';
import { type MuxEndpoint, UdpMux } from './udp-mux.js';

const UFRAG = 'AgEBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho';
const PASSWORD = 'FUM0i+JZhEiAup41ljjys9Bn';
const CLIENT = 'abcd';
const CLIENT_SSRC = 0x1234_5678;
const RELAY = '10.0.0.9';
const IP = ipv4ToU32(RELAY);
const DTLS = Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

const sockets: ReturnType<typeof createSocket>[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/**
 * A session as the mux sees it, with a real MediaTransport on real SRTP keys
 * (as TransceiverSession wires it): authenticated media registers the
 * client's SSRC, and unbound media is tried against the keys.
 */
function setup(profile: SrtpProfile) {
  const s = createSocket('udp4');
  sockets.push(s);
  const mux = new UdpMux(new DgramDatagramSocket(s), 4);
  const c2s = { key: randomBytes(16), salt: randomBytes(profile === 'AEAD_AES_128_GCM' ? 12 : 14) };
  const s2c = { key: randomBytes(16), salt: randomBytes(profile === 'AEAD_AES_128_GCM' ? 12 : 14) };
  const rtpIn: number[] = [];
  const media = new MediaTransport({
    keys: { profile, localKey: s2c.key, localSalt: s2c.salt, remoteKey: c2s.key, remoteSalt: c2s.salt },
    outbound: { ssrc: 99, payloadType: 111, clockRate: 48_000 },
    cname: 'x',
    send: () => {},
    onRtp: (seq) => rtpIn.push(seq),
    onAuthenticated: () => {},
    onRemoteSsrc: (ssrc) => mux.registerSsrc(UFRAG, ssrc),
    now: () => 0,
    wallNow: () => 0,
  });
  const data: string[] = [];
  const ep: MuxEndpoint = {
    onBindingRequest: (d) => checkBindingRequest(d, UFRAG, CLIENT, Buffer.from(PASSWORD)).ok,
    onDatagram(d, _address, _ip4, port) {
      data.push(`:${port}`);
      if ((d[0] as number) >= 128) media.receive(d);
    },
    onUnboundMedia: (d) => media.receive(d),
  };
  mux.register(UFRAG, ep);
  const client = createSrtpTransform(profile, c2s.key, c2s.salt);
  let seq = 100;
  const rtp = (ssrc = CLIENT_SSRC) => {
    const p = Buffer.alloc(12 + 40, 7);
    p[0] = 0x80;
    p[1] = 111;
    p.writeUInt16BE(++seq, 2);
    p.writeUInt32BE(seq * 960, 4);
    p.writeUInt32BE(ssrc, 8);
    return client.protectRtp(p);
  };
  const check = buildBindingRequest({
    username: `${UFRAG}:${CLIENT}`,
    password: PASSWORD,
    fingerprint: true,
  });
  return { mux, rtp, rtpIn, data, check };
}

describe.each(['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const)(
  'UdpMux: a known session from a new address on authenticated SRTP (%s)',
  (profile) => {
    it('moves the session to a new relay port on the first packet that authenticates with its keys', () => {
      const { mux, rtp, rtpIn, data, check } = setup(profile);
      mux.receive(check, RELAY, IP, 4000);
      mux.receive(rtp(), RELAY, IP, 4000);
      expect(rtpIn).toEqual([101]);
      // The relay restarted: same client, new upstream port, no STUN yet.
      mux.receive(rtp(), RELAY, IP, 4001);
      expect(mux.counters.movedBySrtp).toBe(1);
      expect(rtpIn).toEqual([101, 102]);
      // Bound now: DTLS and media from there reach the session the normal way.
      mux.receive(DTLS, RELAY, IP, 4001);
      mux.receive(rtp(), RELAY, IP, 4001);
      expect(data).toEqual([':4000', ':4001', ':4001']);
      expect(rtpIn).toEqual([101, 102, 103]);
      expect(mux.counters.unknownSource).toBe(0);
    });

    it('drops and counts a forged packet with the known SSRC, a replayed real one, and an unknown SSRC; none moves anything', () => {
      const { mux, rtp, rtpIn, check } = setup(profile);
      mux.receive(check, RELAY, IP, 4000);
      const first = rtp();
      mux.receive(first, RELAY, IP, 4000);
      // Known SSRC in the clear, but the tag was not made with the session's keys.
      const forged = Buffer.from(rtp());
      forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
      mux.receive(forged, RELAY, IP, 5000);
      // A genuine packet captured on the old path and replayed from elsewhere: the replay window refuses it.
      mux.receive(first, RELAY, IP, 5001);
      // Random bytes naming our SSRC.
      const junk = randomBytes(60);
      junk[0] = 0x80;
      junk[1] = 111;
      junk.writeUInt32BE(CLIENT_SSRC, 8);
      mux.receive(junk, RELAY, IP, 5002);
      expect(mux.counters.rejectedSrtp).toBe(3);
      // An SSRC no session registered.
      mux.receive(rtp(0xdead_beef), RELAY, IP, 5003);
      expect(mux.counters.unknownSource).toBe(1);
      expect(mux.counters.movedBySrtp).toBe(0);
      expect(rtpIn).toEqual([101]);
      // None of those addresses was bound: DTLS from them is still refused.
      for (const port of [5000, 5001, 5002, 5003]) mux.receive(DTLS, RELAY, IP, port);
      expect(mux.counters.unknownSource).toBe(5);
    });

    it('forgets the SSRC when the session unregisters', () => {
      const { mux, rtp, check } = setup(profile);
      mux.receive(check, RELAY, IP, 4000);
      mux.receive(rtp(), RELAY, IP, 4000);
      mux.unregister(UFRAG);
      mux.receive(rtp(), RELAY, IP, 4001);
      expect(mux.counters.movedBySrtp).toBe(0);
      expect(mux.counters.unknownSource).toBe(1);
    });
  },
);
