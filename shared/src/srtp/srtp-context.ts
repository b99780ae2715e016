import { loadEvp } from '@parley/native/evp';
import { AeadAesGcmTransform } from './aead-gcm.js';
import { AesCmHmacSha1Transform } from './aes-cm-hmac.js';
import { readU32 } from './bytes.js';
import { SrtpConfigError, SrtpPacketError } from './errors.js';
import { EvpAesCmTransform, EvpGcmTransform } from './evp-transforms.js';
import { deriveSessionKeys, type SrtpSessionKeys } from './kdf.js';
import { isSrtpProfile, type SrtpProfile } from './profiles.js';
import { ReplayWindow } from './replay-window.js';
import { RTP_VERSION, rtpHeaderLength } from './rtp-header.js';
import { guessRtpIndex, SRTCP_INDEX_MODULUS } from './rtp-index.js';
import { RTCP_CLEAR_BYTES, type SrtpTransform } from './transform.js';

export { SrtpConfigError, SrtpPacketError } from './errors.js';
export {
  DTLS_SRTP_AEAD_AES_128_GCM,
  DTLS_SRTP_AES128_CM_HMAC_SHA1_80,
  SRTP_PROFILES,
  type SrtpProfile,
  srtpProfileFromDtlsId,
} from './profiles.js';

/** libwebrtc's SRTP replay window: wide enough for NACK retransmissions arriving late. */
export const DEFAULT_RTP_REPLAY_WINDOW = 1024;
export const DEFAULT_RTCP_REPLAY_WINDOW = 128;

/**
 * Who does a session's cipher and MAC (the packet bookkeeping is always this class's):
 * node:crypto, or OpenSSL's EVP API through the native/evp addon (one reused context per key).
 */
export type SrtpCryptoEngine = 'node:crypto' | 'openssl';

export interface SrtpSessionOptions {
  /** Default node:crypto; 'openssl' throws SrtpConfigError when the addon is not loaded. */
  engine?: SrtpCryptoEngine;
  /** Packets remembered per SSRC for replay checks: a multiple of 32 from 64 to 32768. */
  rtpReplayWindow?: number;
  rtcpReplayWindow?: number;
}

/** Sender-side counter per SSRC, mutated in place so the Map is written once per SSRC. */
interface SendState {
  /** Highest RTP index sent, or the next SRTCP index to use. */
  index: number;
}

/**
 * SRTP and SRTCP (RFC 3711, RFC 7714) for one direction of one DTLS-SRTP
 * association: construct one with the local master key to protect what we
 * send and another with the remote key to unprotect what we receive.
 *
 * unprotect* face untrusted datagrams, so they never throw: they return
 * null and count why. Per-SSRC receive state is created only once a packet
 * from that SSRC authenticates, so forged SSRCs cannot grow it.
 */
export class SrtpSession {
  /** Packets whose tag did not verify. */
  authFailures = 0;
  /** Duplicates, and packets too old for the replay window. */
  replayed = 0;
  /** Packets too short or not RTP/RTCP at all. */
  malformed = 0;

  readonly profile: SrtpProfile;
  readonly engine: SrtpCryptoEngine;
  private readonly transform: SrtpTransform;
  private readonly rtpWindow: number;
  private readonly rtcpWindow: number;
  private readonly rtpSend = new Map<number, SendState>();
  private readonly rtcpSend = new Map<number, SendState>();
  private readonly rtpReceive = new Map<number, ReplayWindow>();
  private readonly rtcpReceive = new Map<number, ReplayWindow>();

  constructor(
    profile: SrtpProfile,
    masterKey: Uint8Array,
    masterSalt: Uint8Array,
    options: SrtpSessionOptions = {},
  ) {
    if (!isSrtpProfile(profile)) throw new SrtpConfigError(`unknown SRTP profile ${String(profile)}`);
    this.profile = profile;
    this.rtpWindow = checkWindow('rtpReplayWindow', options.rtpReplayWindow ?? DEFAULT_RTP_REPLAY_WINDOW);
    this.rtcpWindow = checkWindow('rtcpReplayWindow', options.rtcpReplayWindow ?? DEFAULT_RTCP_REPLAY_WINDOW);
    const keys = deriveSessionKeys(profile, masterKey, masterSalt);
    this.engine = options.engine ?? 'node:crypto';
    this.transform = makeTransform(this.engine, profile, keys);
  }

  /** SRTP packet for an RTP packet of ours; ROC advances when seq wraps. */
  protectRtp(rtp: Uint8Array): Buffer {
    const headerLength = rtpHeaderLength(rtp);
    if (headerLength < 0) throw new SrtpPacketError('protectRtp: not an RTP packet');
    const ssrc = readU32(rtp, 8);
    const seq = ((rtp[2] as number) << 8) | (rtp[3] as number);
    return this.transform.protectRtp(rtp, headerLength, ssrc, this.sendRoc(ssrc, seq), seq);
  }

  /**
   * protectRtp into `out` (at least rtp.length + the tag); returns the SRTP length. Engines
   * that can write into it (openssl) allocate nothing per packet; node:crypto copies.
   */
  protectRtpInto(rtp: Uint8Array, out: Uint8Array): number {
    const headerLength = rtpHeaderLength(rtp);
    if (headerLength < 0) throw new SrtpPacketError('protectRtp: not an RTP packet');
    if (out.length < rtp.length + this.transform.rtpTagLength)
      throw new SrtpPacketError('protectRtpInto: output buffer too small');
    const ssrc = readU32(rtp, 8);
    const seq = ((rtp[2] as number) << 8) | (rtp[3] as number);
    const roc = this.sendRoc(ssrc, seq);
    const t = this.transform;
    if (t.protectRtpInto !== undefined) return t.protectRtpInto(rtp, headerLength, ssrc, roc, seq, out);
    const srtp = t.protectRtp(rtp, headerLength, ssrc, roc, seq);
    out.set(srtp);
    return srtp.length;
  }

  /** The ROC to send seq under, advancing the SSRC's highest index. */
  private sendRoc(ssrc: number, seq: number): number {
    const state = this.rtpSend.get(ssrc);
    let index = seq;
    if (state === undefined) {
      this.rtpSend.set(ssrc, { index: seq });
    } else {
      // Guessing like a receiver would keeps a resent older packet on its original ROC.
      index = guessRtpIndex(state.index, seq);
      if (index < 0) index = seq;
      else if (index > state.index) state.index = index;
    }
    return Math.floor(index / 0x10000);
  }

  /** RTP packet, or null (counted) if srtp is malformed, a replay or forged. */
  unprotectRtp(srtp: Uint8Array): Buffer | null {
    const r = this.receiveRtp(srtp, undefined);
    return typeof r === 'number' ? null : r;
  }

  /**
   * unprotectRtp into `out`: the RTP length, or -1 (counted) if srtp is malformed, a replay,
   * forged, or longer than out can hold. Never throws.
   */
  unprotectRtpInto(srtp: Uint8Array, out: Uint8Array): number {
    const r = this.receiveRtp(srtp, out);
    return r === null ? -1 : typeof r === 'number' ? r : r.length;
  }

  /** Shared by both unprotect forms: a Buffer (no out), a length (out), or null. */
  private receiveRtp(srtp: Uint8Array, out: Uint8Array | undefined): Buffer | number | null {
    const headerLength = rtpHeaderLength(srtp);
    const tagLength = this.transform.rtpTagLength;
    if (
      headerLength < 0 ||
      srtp.length < headerLength + tagLength ||
      (out !== undefined && out.length < srtp.length - tagLength)
    ) {
      this.malformed++;
      return null;
    }
    const ssrc = readU32(srtp, 8);
    const seq = ((srtp[2] as number) << 8) | (srtp[3] as number);
    const window = this.rtpReceive.get(ssrc);
    let index = seq;
    if (window !== undefined) {
      index = guessRtpIndex(window.top, seq);
      if (index < 0 || !window.check(index)) {
        this.replayed++;
        return null;
      }
    }
    const roc = Math.floor(index / 0x10000);
    const t = this.transform;
    let rtp: Buffer | number | null;
    if (out === undefined) {
      rtp = t.unprotectRtp(srtp, headerLength, ssrc, roc, seq);
    } else if (t.unprotectRtpInto !== undefined) {
      const n = t.unprotectRtpInto(srtp, headerLength, ssrc, roc, seq, out);
      rtp = n < 0 ? null : n;
    } else {
      const plain = t.unprotectRtp(srtp, headerLength, ssrc, roc, seq);
      if (plain !== null) out.set(plain);
      rtp = plain === null ? null : plain.length;
    }
    if (rtp === null) {
      this.authFailures++;
      return null;
    }
    if (window === undefined) {
      const fresh = new ReplayWindow(this.rtpWindow);
      fresh.accept(index);
      this.rtpReceive.set(ssrc, fresh);
    } else {
      window.accept(index);
    }
    return rtp;
  }

  /** SRTCP packet (always encrypted, E=1) for a compound RTCP packet of ours. */
  protectRtcp(rtcp: Uint8Array): Buffer {
    if (rtcp.length < RTCP_CLEAR_BYTES || (rtcp[0] as number) >> 6 !== RTP_VERSION) {
      throw new SrtpPacketError('protectRtcp: not an RTCP packet');
    }
    const ssrc = readU32(rtcp, 4);
    let state = this.rtcpSend.get(ssrc);
    if (state === undefined) {
      state = { index: 0 };
      this.rtcpSend.set(ssrc, state);
    }
    const index = state.index;
    state.index = (index + 1) % SRTCP_INDEX_MODULUS;
    return this.transform.protectRtcp(rtcp, ssrc, index);
  }

  /** Compound RTCP packet, or null (counted) if srtcp is malformed, a replay or forged. */
  unprotectRtcp(srtcp: Uint8Array): Buffer | null {
    const len = srtcp.length;
    if (
      len < RTCP_CLEAR_BYTES + this.transform.rtcpTrailerLength ||
      (srtcp[0] as number) >> 6 !== RTP_VERSION
    ) {
      this.malformed++;
      return null;
    }
    const word = readU32(srtcp, len - this.transform.rtcpIndexFromEnd);
    const encrypted = word >= SRTCP_INDEX_MODULUS;
    const index = encrypted ? word - SRTCP_INDEX_MODULUS : word;
    const ssrc = readU32(srtcp, 4);
    const window = this.rtcpReceive.get(ssrc);
    if (window !== undefined && !window.check(index)) {
      this.replayed++;
      return null;
    }
    const rtcp = this.transform.unprotectRtcp(srtcp, ssrc, index, encrypted);
    if (rtcp === null) {
      this.authFailures++;
      return null;
    }
    if (window === undefined) {
      const fresh = new ReplayWindow(this.rtcpWindow);
      fresh.accept(index);
      this.rtcpReceive.set(ssrc, fresh);
    } else {
      window.accept(index);
    }
    return rtcp;
  }
}

function makeTransform(engine: SrtpCryptoEngine, profile: SrtpProfile, keys: SrtpSessionKeys): SrtpTransform {
  const gcm = profile === 'AEAD_AES_128_GCM';
  if (engine === 'openssl') {
    const evp = loadEvp();
    if (evp === undefined) throw new SrtpConfigError('the OpenSSL EVP addon (native/evp) is not loaded');
    try {
      return gcm ? new EvpGcmTransform(evp, keys) : new EvpAesCmTransform(evp, keys);
    } catch (cause) {
      throw new SrtpConfigError(`OpenSSL cannot set up ${profile}`, { cause });
    }
  }
  try {
    return gcm ? new AeadAesGcmTransform(keys) : new AesCmHmacSha1Transform(keys);
  } catch (cause) {
    throw new SrtpConfigError(`node:crypto cannot set up ${profile}`, { cause });
  }
}

function checkWindow(name: string, size: number): number {
  if (!Number.isInteger(size) || size < 64 || size > 0x8000 || size % 32 !== 0) {
    throw new SrtpConfigError(`${name} must be a multiple of 32 from 64 to 32768, got ${size}`);
  }
  return size;
}
