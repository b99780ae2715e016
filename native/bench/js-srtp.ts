/**
 * The JavaScript SRTP implementations the libsrtp2 addon is compared with, behind one
 * buffer-in/buffer-out shape: werift's SrtpSession/SrtcpSession (node:crypto, what the
 * transceiver used before) and Parley's node:crypto SrtpSession in shared/src/srtp.
 */
import { RtpHeader, SrtcpSession, SrtpSession } from '@parley/shared/webrtc/werift-client.js';

export type ProfileId = 1 | 7;
export const PROFILES: { id: ProfileId; name: string; keyBytes: number; saltBytes: number }[] = [
  { id: 1, name: 'AES_CM_128_HMAC_SHA1_80', keyBytes: 16, saltBytes: 14 },
  { id: 7, name: 'AEAD_AES_128_GCM', keyBytes: 16, saltBytes: 12 },
];

export interface SrtpLike {
  protectRtp(packet: Buffer): Buffer;
  unprotectRtp(packet: Buffer): Buffer | null;
  protectRtcp(packet: Buffer): Buffer;
  unprotectRtcp(packet: Buffer): Buffer | null;
}

/** werift, keyed the same both ways (local = remote key) so one object protects and unprotects. */
export class WeriftSrtp implements SrtpLike {
  readonly rtp: SrtpSession;
  readonly rtcp: SrtcpSession;

  constructor(profile: ProfileId, masterKey: Buffer, masterSalt: Buffer) {
    const keys = {
      localMasterKey: masterKey,
      localMasterSalt: masterSalt,
      remoteMasterKey: masterKey,
      remoteMasterSalt: masterSalt,
    };
    this.rtp = new SrtpSession({ keys, profile });
    this.rtcp = new SrtcpSession({ keys, profile });
  }

  /** werift's own send path: the header is already an object (what RTCRtpSender does). */
  encrypt(payload: Buffer, header: RtpHeader): Buffer {
    return this.rtp.encrypt(payload, header);
  }

  protectRtp(packet: Buffer): Buffer {
    const header = RtpHeader.deSerialize(packet);
    return this.rtp.encrypt(packet.subarray(header.payloadOffset), header);
  }

  unprotectRtp(packet: Buffer): Buffer | null {
    try {
      return this.rtp.decrypt(packet);
    } catch {
      return null;
    }
  }

  protectRtcp(packet: Buffer): Buffer {
    return this.rtcp.encrypt(packet);
  }

  unprotectRtcp(packet: Buffer): Buffer | null {
    try {
      return this.rtcp.decrypt(packet);
    } catch {
      return null;
    }
  }
}

export interface SharedSrtp {
  /** the module file it came from */
  file: string;
  create(profile: ProfileId, masterKey: Buffer, masterSalt: Buffer, engine?: SharedEngine): SrtpLike;
}

/** shared/src/srtp's crypto engines: node:crypto, or OpenSSL EVP through native/evp. */
export type SharedEngine = 'node:crypto' | 'openssl';

const PROFILE_NAMES = { 1: 'AES_CM_128_HMAC_SHA1_80', 7: 'AEAD_AES_128_GCM' } as const;

/** Parley's SrtpSession (shared/src/srtp), on node:crypto or on the native/evp addon. */
export async function loadSharedSrtp(): Promise<SharedSrtp> {
  const { SrtpSession: Shared } = await import('@parley/shared/srtp/srtp-context.js');
  return {
    file: 'shared/src/srtp/srtp-context.ts',
    create: (profile, masterKey, masterSalt, engine = 'node:crypto') =>
      new Shared(PROFILE_NAMES[profile], masterKey, masterSalt, { engine }),
  };
}

/** A minimal RTP packet: V=2, no CSRC/extension, PT 111 (Opus). */
export function rtpPacket(seq: number, timestamp: number, ssrc: number, payload: Uint8Array): Buffer {
  const p = Buffer.allocUnsafe(12 + payload.length);
  p[0] = 0x80;
  p[1] = 111;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(timestamp >>> 0, 4);
  p.writeUInt32BE(ssrc >>> 0, 8);
  p.set(payload, 12);
  return p;
}

/** An RTCP receiver report with one report block (32 bytes), the commonest RTCP on a call. */
export function rtcpReceiverReport(ssrc: number, mediaSsrc: number): Buffer {
  const p = Buffer.alloc(32);
  p[0] = 0x81;
  p[1] = 201;
  p.writeUInt16BE(32 / 4 - 1, 2);
  p.writeUInt32BE(ssrc >>> 0, 4);
  p.writeUInt32BE(mediaSsrc >>> 0, 8);
  p.writeUInt32BE(0x00000010, 12);
  p.writeUInt32BE(0x00012345, 16);
  p.writeUInt32BE(42, 20);
  return p;
}
