#!/usr/bin/env node
// SRTP protect cost per packet as the number of live SRTP contexts in the
// process grows (a transceiver or generator holds two per session):
// `taskset -c 0 node loadtest/dist/bench/capacity/srtp-scaling.js`.
// Debian's libsrtp2 runs on NSS, whose per-packet context setup walks a
// hash chain that grows with the keys alive; node:crypto does not.
import { randomBytes } from 'node:crypto';
import { loadNativeSrtp } from '@parley/native/srtp';
import { SrtpSession } from '@parley/shared/srtp/srtp-context.js';

const COUNTS = [1, 100, 300, 600, 1200];
const OPS = 60_000;
const PROFILES = ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80'] as const;

interface Protector {
  protect(rtp: Buffer): void;
}

function packet(): Buffer {
  const p = Buffer.alloc(12 + 120);
  p[0] = 0x80;
  p[1] = 111;
  p.writeUInt32BE(0x1234, 8);
  return p;
}

function measure(label: string, make: (key: Buffer, salt: Buffer) => Protector, saltBytes: number): void {
  const live: Protector[] = [];
  const rtp = packet();
  let seq = 0;
  for (const n of COUNTS) {
    while (live.length < n) {
      const s = make(randomBytes(16), randomBytes(saltBytes));
      s.protect(rtp);
      live.push(s);
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) {
      seq = (seq + 1) & 0xffff;
      rtp.writeUInt16BE(seq, 2);
      (live[i % n] as Protector).protect(rtp);
    }
    const us = Number(process.hrtime.bigint() - t0) / 1000 / OPS;
    process.stdout.write(
      `${label.padEnd(36)} ${String(n).padStart(5)} contexts  ${us.toFixed(2)} µs/packet\n`,
    );
  }
}

const native = loadNativeSrtp();
for (const profile of PROFILES) {
  const salt = profile === 'AEAD_AES_128_GCM' ? 12 : 14;
  if (native) {
    const out = Buffer.alloc(2048);
    measure(
      `libsrtp2 ${profile}`,
      (k, s) => {
        const session = new native.NativeSrtpSession(profile, k, s);
        return { protect: (rtp) => void session.protectRtpInto(rtp, out) };
      },
      salt,
    );
  }
  measure(
    `node:crypto ${profile}`,
    (k, s) => {
      const session = new SrtpSession(profile, k, s);
      return { protect: (rtp) => void session.protectRtp(rtp) };
    },
    salt,
  );
}
