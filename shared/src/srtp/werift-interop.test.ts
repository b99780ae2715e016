import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
// werift, through the adapter, is the reference stack we must stay wire-compatible with.
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtcpSession,
  SrtpSession as WeriftSrtpSession,
} from '../webrtc/werift-client.js';
import { SRTP_PROFILES, type SrtpProfile } from './profiles.js';
import { writeRtpHeader } from './rtp-header.js';
import { SrtpSession } from './srtp-context.js';

const WERIFT_PROFILE: Record<SrtpProfile, number> = {
  AES_CM_128_HMAC_SHA1_80: ProtectionProfileAes128CmHmacSha1_80,
  AEAD_AES_128_GCM: ProtectionProfileAeadAes128Gcm,
};

function pair(profile: SrtpProfile) {
  const { keyLength, saltLength } = SRTP_PROFILES[profile];
  const weriftKey = randomBytes(keyLength);
  const weriftSalt = randomBytes(saltLength);
  const oursKey = randomBytes(keyLength);
  const oursSalt = randomBytes(saltLength);
  const keys = {
    localMasterKey: weriftKey,
    localMasterSalt: weriftSalt,
    remoteMasterKey: oursKey,
    remoteMasterSalt: oursSalt,
  };
  const config = { keys, profile: WERIFT_PROFILE[profile] };
  return {
    weriftRtp: new WeriftSrtpSession(config),
    weriftRtcp: new SrtcpSession(config),
    // Ours protects with the key werift treats as remote, and unprotects werift's local one.
    ourSender: new SrtpSession(profile, oursKey, oursSalt),
    ourReceiver: new SrtpSession(profile, weriftKey, weriftSalt),
  };
}

function rtpPacket(seq: number, payloadBytes: number): Buffer {
  const buf = Buffer.alloc(12 + payloadBytes);
  writeRtpHeader(buf, 0, { pt: 111, seq, ts: seq * 960, ssrc: 0x1234abcd, marker: seq % 7 === 0 });
  randomBytes(payloadBytes).copy(buf, 12);
  return buf;
}

/** CSRCs plus a one-byte-header extension, so the header length is not just 12. */
function rtpPacketWithExtension(seq: number): Buffer {
  const header = Buffer.from('9260000000000000cafebabe1111111122222222bede0001' + '10aa0000', 'hex');
  header.writeUInt16BE(seq, 2);
  return Buffer.concat([header, randomBytes(60)]);
}

function senderReport(ssrc: number): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(ssrc, 4);
  randomBytes(20).copy(sr, 8);
  return sr;
}

const PROFILES: SrtpProfile[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'];

describe.each(PROFILES)('wire compatibility with werift (%s)', (profile) => {
  it('werift SRTP → ours, across a sequence wrap', () => {
    const { weriftRtp, ourReceiver } = pair(profile);
    for (let i = 0; i < 20; i++) {
      const plain = i === 3 ? rtpPacketWithExtension(65530 + i) : rtpPacket((65530 + i) & 0xffff, 100);
      const parsed = RtpPacket.deSerialize(plain);
      const srtp = weriftRtp.encrypt(parsed.payload, parsed.header);
      const back = ourReceiver.unprotectRtp(srtp);
      expect(back?.toString('hex'), `packet ${i}`).toBe(
        new RtpPacket(parsed.header, parsed.payload).serialize().toString('hex'),
      );
    }
    expect(ourReceiver.authFailures).toBe(0);
  });

  it('ours SRTP → werift, across a sequence wrap', () => {
    const { weriftRtp, ourSender } = pair(profile);
    for (let i = 0; i < 20; i++) {
      const plain = i === 3 ? rtpPacketWithExtension(65530 + i) : rtpPacket((65530 + i) & 0xffff, 100);
      const back = weriftRtp.decrypt(ourSender.protectRtp(plain));
      expect(back.toString('hex'), `packet ${i}`).toBe(plain.toString('hex'));
    }
  });

  it('werift SRTCP → ours', () => {
    const { weriftRtcp, ourReceiver } = pair(profile);
    for (let i = 0; i < 5; i++) {
      const sr = senderReport(0xdeadbeef);
      expect(ourReceiver.unprotectRtcp(weriftRtcp.encrypt(sr))?.toString('hex')).toBe(sr.toString('hex'));
    }
    expect(ourReceiver.authFailures + ourReceiver.replayed + ourReceiver.malformed).toBe(0);
  });

  it('ours SRTCP → werift', () => {
    const { weriftRtcp, ourSender } = pair(profile);
    for (let i = 0; i < 5; i++) {
      const sr = senderReport(0xdeadbeef);
      expect(weriftRtcp.decrypt(ourSender.protectRtcp(sr)).toString('hex')).toBe(sr.toString('hex'));
    }
  });
});
