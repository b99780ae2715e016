import { randomBytes } from 'node:crypto';
import type { SrtpKeyingMaterial } from '@parley/shared/webrtc/lite-peer.js';
import { MediaTransport } from '../media-transport.js';

/**
 * CPU per echoed packet through the transceiver's media path without I/O:
 * SRTP unprotect, RTP header read, receive statistics, then the echo's RTP
 * header write and SRTP protect (what an rtp-echo session does per packet
 * pair, minus the socket). Run pinned, e.g.
 *   taskset -c 1 node core/dist/rtp/bench/media-transport-bench.js [packets]
 */
const N = Number(process.argv[2] ?? 100_000);

function endpoint(profile: SrtpKeyingMaterial['profile'], local: Buffer[], remote: Buffer[], ssrc: number) {
  let last: Buffer | undefined;
  let echo: MediaTransport | undefined;
  const t = new MediaTransport({
    keys: {
      profile,
      localKey: local[0] as Buffer,
      localSalt: local[1] as Buffer,
      remoteKey: remote[0] as Buffer,
      remoteSalt: remote[1] as Buffer,
    },
    outbound: { ssrc, payloadType: 111, clockRate: 48_000 },
    cname: `bench-${ssrc}`,
    send: (d) => {
      last = d;
    },
    onRtp: (_seq, ts, payload) => echo?.sendRtp(payload, ts, false),
    onAuthenticated: () => {},
    now: () => performance.now(),
    wallNow: Date.now,
  });
  return { t, sent: () => last as Buffer, echoWith: (e: MediaTransport) => (echo = e) };
}

for (const profile of ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80'] as const) {
  const salt = profile === 'AEAD_AES_128_GCM' ? 12 : 14;
  const a = [randomBytes(16), randomBytes(salt)];
  const b = [randomBytes(16), randomBytes(salt)];
  const client = endpoint(profile, a, b, 1);
  const server = endpoint(profile, b, a, 2);
  server.echoWith(server.t);
  const payload = randomBytes(120);
  const packets: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    client.t.sendRtp(payload, i * 960, false);
    packets.push(client.sent());
  }
  const cpu = process.cpuUsage();
  for (const p of packets) server.t.receive(p);
  const used = process.cpuUsage(cpu);
  const us = (used.user + used.system) / N;
  console.log(
    `${profile.padEnd(24)} ${us.toFixed(2)} µs of CPU per echoed packet (unprotect + header + stats + protect), ${server.t.counters.dropped} dropped`,
  );
}
