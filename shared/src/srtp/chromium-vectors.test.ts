import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SrtpProfile } from './profiles.js';
import { rtpPayloadType, rtpSequenceNumber } from './rtp-header.js';
import { SrtpSession } from './srtp-context.js';
import { createSrtpTransform, type SrtpTransform } from './srtp-engine.js';

// Real packets from a headless Chromium call, with Chromium's master key and
// salt from the DTLS-SRTP exporter, captured once by
// shared/src/webrtc/capture-chromium-srtp.ts (see there). Independent
// vectors: neither the packets nor the keys come from Parley's own SRTP.
interface Vectors {
  profile: SrtpProfile;
  masterKey: string;
  masterSalt: string;
  opusPayloadType: number;
  rtp: string[];
  rtcp: string[];
}

const load = (profile: SrtpProfile): Vectors =>
  JSON.parse(
    readFileSync(new URL(`./fixtures/chromium-${profile.toLowerCase()}.json`, import.meta.url), 'utf8'),
  ) as Vectors;

const engines: [string, (v: Vectors) => SrtpTransform][] = [
  ['SrtpSession (node:crypto)', (v) => new SrtpSession(v.profile, hex(v.masterKey), hex(v.masterSalt))],
  [
    'SrtpSession (openssl)',
    (v) => new SrtpSession(v.profile, hex(v.masterKey), hex(v.masterSalt), { engine: 'openssl' }),
  ],
  [
    'createSrtpTransform (the engine sessions use)',
    (v) => createSrtpTransform(v.profile, hex(v.masterKey), hex(v.masterSalt)),
  ],
];

function flipBit(b: Buffer, at: number): void {
  b.writeUInt8(b.readUInt8(at) ^ 1, at);
}

function hex(s: string): Buffer {
  return Buffer.from(s, 'hex');
}

describe.each(['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const)('Chromium %s vectors', (profile) => {
  const v = load(profile);

  it.each(engines)(
    '%s unprotects every captured RTP packet: Opus, one SSRC, consecutive sequence numbers',
    (_, make) => {
      const srtp = make(v);
      let ssrc: number | undefined;
      let lastSeq: number | undefined;
      for (const p of v.rtp) {
        const packet = hex(p);
        const rtp = srtp.unprotectRtp(packet);
        expect(rtp, p.slice(0, 24)).not.toBeNull();
        const out = rtp as Buffer;
        // The header is sent in clear and authenticated: it comes back unchanged.
        expect(out.subarray(0, 12)).toEqual(packet.subarray(0, 12));
        expect(rtpPayloadType(out)).toBe(v.opusPayloadType);
        const s = out.readUInt32BE(8);
        ssrc ??= s;
        expect(s).toBe(ssrc);
        const seq = rtpSequenceNumber(out);
        if (lastSeq !== undefined) expect(seq).toBe((lastSeq + 1) & 0xffff);
        lastSeq = seq;
        // A non-empty Opus payload, shorter than the packet by the tag (and GCM's is 16 bytes).
        expect(out.length).toBeGreaterThan(12);
        expect(packet.length - out.length).toBe(profile === 'AEAD_AES_128_GCM' ? 16 : 10);
      }
    },
  );

  it.each(engines)(
    '%s unprotects the captured SRTCP: well-formed reports, the first an SR with SDES',
    (_, make) => {
      const srtp = make(v);
      const types: number[] = [];
      const compounds: number[][] = [];
      for (const p of v.rtcp) {
        const rtcp = srtp.unprotectRtcp(hex(p));
        expect(rtcp, p.slice(0, 24)).not.toBeNull();
        const out = rtcp as Buffer;
        types.push(out[1] as number);
        // Walk the compound packet: every part's length must land exactly on the end.
        let at = 0;
        const parts: number[] = [];
        while (at + 4 <= out.length) {
          expect((out[at] as number) >> 6).toBe(2);
          parts.push(out[at + 1] as number);
          at += (out.readUInt16BE(at + 2) + 1) * 4;
        }
        expect(at).toBe(out.length);
        compounds.push(parts);
      }
      expect(types[0]).toBe(200);
      // The first report is a full compound (SR, then SDES with the CNAME, RFC 3550
      // §6.1); later ones may be reduced-size (Chromium offers a=rtcp-rsize, RFC 5506).
      expect(compounds[0]).toContain(202);
    },
  );

  it.each(engines)('%s refuses the same packets with one bit flipped', (_, make) => {
    const srtp = make(v);
    const rtp = hex(v.rtp[0] as string);
    flipBit(rtp, rtp.length - 20);
    expect(srtp.unprotectRtp(rtp)).toBeNull();
    const rtcp = hex(v.rtcp[0] as string);
    flipBit(rtcp, 16);
    expect(srtp.unprotectRtcp(rtcp)).toBeNull();
  });
});
