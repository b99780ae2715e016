import { loadNativeSrtp } from '@parley/native/srtp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bump, fuzz, fuzzBytes, fuzzFloor, fuzzTimeout, invariant } from '../testing/fuzz.js';
import type { SrtpProfile } from './profiles.js';
import { SrtpSession } from './srtp-context.js';

/**
 * SRTP/SRTCP unprotect is the first code that reads a media datagram's
 * payload. Fed damaged copies of real protected packets (bit flips in
 * header, payload, tag and SRTCP index; lengths; splices) and random bytes,
 * it must never throw, must return null for everything it refuses and count
 * each refusal once (JavaScript engine: malformed, replayed or forged), and
 * may accept only a packet that is byte for byte one the sender protected.
 * libsrtp2 (the native addon, when built) gets the same inputs: a C parser
 * on untrusted bytes is where a crash would hurt most.
 */
const KEY = Buffer.alloc(16, 0x2b);
const SALT = Buffer.alloc(14, 0x3c);
const KEY_GCM_SALT = Buffer.alloc(12, 0x3c);

function rtp(
  seq: number,
  ssrc: number,
  payload: number,
  extras: { csrc?: number; ext?: boolean } = {},
): Buffer {
  const cc = extras.csrc ?? 0;
  const head = Buffer.alloc(12 + cc * 4 + (extras.ext ? 8 : 0));
  head[0] = 0x80 | (extras.ext ? 0x10 : 0) | cc;
  head[1] = 111;
  head.writeUInt16BE(seq, 2);
  head.writeUInt32BE(seq * 960, 4);
  head.writeUInt32BE(ssrc, 8);
  if (extras.ext) {
    const at = 12 + cc * 4;
    head.writeUInt16BE(0xbede, at);
    head.writeUInt16BE(1, at + 2);
  }
  return Buffer.concat([head, Buffer.alloc(payload, seq & 0xff)]);
}
function rtcp(ssrc: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
}

const PROFILES: { profile: SrtpProfile; salt: Buffer }[] = [
  { profile: 'AES_CM_128_HMAC_SHA1_80', salt: SALT },
  { profile: 'AEAD_AES_128_GCM', salt: KEY_GCM_SALT },
];

for (const { profile, salt } of PROFILES) {
  describe(`SRTP unprotect (${profile}) under fuzzing`, () => {
    // Real protected packets: several SSRCs, a sequence wrap, CSRCs, a header extension, RTCP.
    const sender = new SrtpSession(profile, KEY, salt);
    const plainRtp = [
      rtp(1, 0x11111111, 60),
      rtp(2, 0x11111111, 0),
      rtp(0xffff, 0x22222222, 40, { csrc: 2 }),
      rtp(0, 0x22222222, 40, { ext: true }),
      rtp(7, 0x33333333, 160),
    ];
    const protectedRtp = plainRtp.map((p) => sender.protectRtp(p));
    const protectedRtcp = [sender.protectRtcp(rtcp(0x11111111)), sender.protectRtcp(rtcp(0x22222222))];
    const originals = new Set([...protectedRtp, ...protectedRtcp].map((b) => b.toString('hex')));
    // CI: 50k inputs per profile for the JavaScript engine and 25k for libsrtp2, 150k for the target.
    const inputs = fc.tuple(fuzzBytes([...protectedRtp, ...protectedRtcp], 200), fc.boolean());

    it.each(['node:crypto', 'openssl'] as const)(
      'SrtpSession on %s: never throws, counts every refusal once, accepts only what the sender protected',
      (engine) => {
        const receiver = new SrtpSession(profile, KEY, salt, { engine });
        const tally = new Map<string, number>();
        let refused = 0;
        fuzz(
          inputs,
          ([bytes, asRtcp]) => {
            const out = asRtcp ? receiver.unprotectRtcp(bytes) : receiver.unprotectRtp(bytes);
            if (out === null) {
              refused++;
              invariant(
                receiver.malformed + receiver.replayed + receiver.authFailures === refused,
                'a refusal was not counted exactly once',
              );
              bump(tally, 'refused');
            } else {
              invariant(Buffer.isBuffer(out), 'unprotect returned something that is not a Buffer');
              invariant(originals.has(bytes.toString('hex')), 'accepted a packet the sender never protected');
              bump(tally, 'accepted');
            }
          },
          50_000,
        );
        expect(tally.get('accepted') ?? 0).toBeGreaterThan(0);
        expect(receiver.malformed).toBeGreaterThan(fuzzFloor(100, 50_000));
        expect(receiver.authFailures).toBeGreaterThan(fuzzFloor(100, 50_000));
        expect(receiver.replayed).toBeGreaterThan(fuzzFloor(100, 50_000));
      },
      fuzzTimeout(),
    );

    const native = loadNativeSrtp();
    it(
      'libsrtp2 engine: never throws or crashes, accepts only what the sender protected',
      () => {
        // npm test requires the native addons built (see README); a missing one is a failure here too.
        expect(native, 'native SRTP addon not built').toBeDefined();
        const lib = native as NonNullable<typeof native>;
        const receiver = new lib.NativeSrtpSession(profile, KEY, salt, { replayWindow: 1024 });
        const tally = new Map<string, number>();
        fuzz(
          inputs,
          ([bytes, asRtcp]) => {
            const out = asRtcp ? receiver.unprotectRtcp(bytes) : receiver.unprotectRtp(bytes);
            if (out === null) bump(tally, 'refused');
            else {
              invariant(originals.has(bytes.toString('hex')), 'libsrtp2 accepted a packet nobody protected');
              bump(tally, 'accepted');
            }
          },
          25_000,
        );
        receiver.close();
        expect(tally.get('refused') ?? 0).toBeGreaterThan(fuzzFloor(1000, 25_000));
      },
      fuzzTimeout(),
    );
  });
}
