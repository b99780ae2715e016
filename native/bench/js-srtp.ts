/**
 * The JavaScript SRTP implementations the libsrtp2 addon is compared with, behind one
 * buffer-in/buffer-out shape: werift's SrtpSession/SrtcpSession (node:crypto, what the
 * transceiver uses today) and, once it lands, the SrtpSession in shared/src/srtp.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RtpHeader, SrtcpSession, SrtpSession } from 'werift';

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
  create(profile: ProfileId, masterKey: Buffer, masterSalt: Buffer): SrtpLike;
}

const PROFILE_SPELLINGS: Record<ProfileId, unknown[]> = {
  1: [1, 'AES_CM_128_HMAC_SHA1_80', 'SRTP_AES128_CM_HMAC_SHA1_80', 'aes_cm_128_hmac_sha1_80'],
  7: [7, 'AEAD_AES_128_GCM', 'SRTP_AEAD_AES_128_GCM', 'aead_aes_128_gcm'],
};

type SessionCtor = new (profile: unknown, key: Buffer, salt: Buffer) => SrtpLike;

/**
 * The node:crypto SrtpSession from shared/src/srtp if it exists: finds the module exporting
 * `SrtpSession` and the profile spelling it accepts (by round-tripping one packet), since
 * its API was still being written when this bench was.
 */
export async function loadSharedSrtp(): Promise<SharedSrtp | undefined> {
  const dir = fileURLToPath(new URL('../../shared/src/srtp/', import.meta.url));
  let files: string[];
  try {
    files = readdirSync(dir).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'),
    );
  } catch {
    return undefined;
  }
  files.sort((a, b) => (a.startsWith('index') ? -1 : b.startsWith('index') ? 1 : a.localeCompare(b)));
  for (const f of files) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(dir + f).href)) as Record<string, unknown>;
    } catch {
      continue;
    }
    const Ctor = mod.SrtpSession as SessionCtor | undefined;
    if (typeof Ctor !== 'function') continue;
    const spelling = (profile: ProfileId): unknown => {
      const probe = rtpPacket(1, 1, 0x1234, Buffer.alloc(20, 7));
      const key = Buffer.alloc(16, 3);
      const salt = Buffer.alloc(profile === 1 ? 14 : 12, 5);
      for (const p of PROFILE_SPELLINGS[profile]) {
        try {
          const back = new Ctor(p, key, salt).unprotectRtp(new Ctor(p, key, salt).protectRtp(probe));
          if (back?.equals(probe)) return p;
        } catch {}
      }
      return undefined;
    };
    const spell = { 1: spelling(1), 7: spelling(7) } as Record<ProfileId, unknown>;
    if (spell[1] === undefined && spell[7] === undefined) continue;
    return {
      file: `shared/src/srtp/${f}`,
      create(profile, masterKey, masterSalt) {
        if (spell[profile] === undefined)
          throw new Error(`shared SrtpSession does not take profile ${profile}`);
        return new Ctor(spell[profile], masterKey, masterSalt);
      },
    };
  }
  return undefined;
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
