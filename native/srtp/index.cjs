'use strict';
// Loader for the libsrtp2 addon (build/Release/parley_srtp.node, built by `npm run build:native`).
// loadNativeSrtp() returns undefined when the addon is not built or cannot load (e.g. the
// runtime image lacks libsrtp2-1), so callers can fall back to the node:crypto implementation.
// PARLEY_NATIVE=0 disables it.
const { makeBindingLoader } = require('../load-binding.cjs');

const binding = makeBindingLoader(__dirname, 'parley_srtp.node', { label: 'libsrtp2 addon' });

/** DTLS-SRTP protection profile ids (RFC 5764 / RFC 7714), the numbers werift also uses. */
const SrtpProfile = Object.freeze({ AES_CM_128_HMAC_SHA1_80: 1, AEAD_AES_128_GCM: 7 });
const PROFILE_NAMES = {
  AES_CM_128_HMAC_SHA1_80: 1,
  SRTP_AES128_CM_HMAC_SHA1_80: 1,
  AEAD_AES_128_GCM: 7,
  SRTP_AEAD_AES_128_GCM: 7,
};
const KEY_BYTES = { 1: [16, 14], 7: [16, 12] };
const TAG_BYTES = { 1: 10, 7: 16 };

function profileId(profile) {
  const id = typeof profile === 'string' ? PROFILE_NAMES[profile] : profile;
  if (id !== 1 && id !== 7) throw new RangeError(`unsupported SRTP profile ${String(profile)}`);
  return id;
}

/**
 * One master key+salt, usable both ways like the JS SrtpSession: protect* uses an
 * ssrc_any_outbound libsrtp context, unprotect* an ssrc_any_inbound one (each created on
 * first use). For a DTLS-SRTP association make two: one with the local (write) key, one
 * with the remote (read) key.
 */
class NativeSrtpSession {
  #b;
  #key;
  #window;
  #repeat;
  #out;
  #in;
  #tag;

  /**
   * @param profile 1 | 7 or 'AES_CM_128_HMAC_SHA1_80' | 'AEAD_AES_128_GCM'
   * @param options.replayWindow libsrtp replay window (64..32767; default 128)
   * @param options.allowRepeatTx let protect() re-send an already sent sequence number (NACK retransmission of the same payload)
   */
  constructor(profile, masterKey, masterSalt, options = {}) {
    const b = binding.need();
    this.profile = profileId(profile);
    const [kl, sl] = KEY_BYTES[this.profile];
    if (masterKey.length !== kl || masterSalt.length !== sl)
      throw new RangeError(`profile ${this.profile} needs a ${kl}-byte master key and ${sl}-byte salt`);
    this.#b = b;
    this.#key = Buffer.concat([masterKey, masterSalt]);
    this.#window = options.replayWindow ?? 0;
    this.#repeat = options.allowRepeatTx ?? false;
    this.#tag = TAG_BYTES[this.profile];
  }

  /** Bytes protectRtp adds (10 or 16); protectRtcp adds 4 more (E flag + index). */
  get rtpOverhead() {
    return this.#tag;
  }

  #outbound() {
    if (!this.#out) this.#out = this.#b.create(this.profile, this.#key, true, this.#window, this.#repeat);
    return this.#out;
  }

  #inbound() {
    if (!this.#in) this.#in = this.#b.create(this.profile, this.#key, false, this.#window, false);
    return this.#in;
  }

  /** Writes SRTP into `out` (>= packet.length + rtpOverhead); returns its length. Throws on failure. */
  protectRtpInto(packet, out) {
    const n = this.#b.protect(this.#outbound(), packet, out);
    if (n < 0) throw new Error(`srtp_protect failed: status ${-n}`);
    return n;
  }

  /** Writes the RTP packet into `out` (>= packet.length); returns its length, or -1 (auth/replay failure). */
  unprotectRtpInto(packet, out) {
    const n = this.#b.unprotect(this.#inbound(), packet, out);
    return n < 0 ? -1 : n;
  }

  protectRtcpInto(packet, out) {
    const n = this.#b.protectRtcp(this.#outbound(), packet, out);
    if (n < 0) throw new Error(`srtp_protect_rtcp failed: status ${-n}`);
    return n;
  }

  unprotectRtcpInto(packet, out) {
    const n = this.#b.unprotectRtcp(this.#inbound(), packet, out);
    return n < 0 ? -1 : n;
  }

  protectRtp(packet) {
    const out = Buffer.allocUnsafe(packet.length + this.#tag);
    this.protectRtpInto(packet, out);
    return out;
  }

  /** The RTP packet, or null when authentication or the replay check fails. */
  unprotectRtp(packet) {
    const out = Buffer.allocUnsafe(packet.length);
    const n = this.#b.unprotect(this.#inbound(), packet, out);
    return n < 0 ? null : out.subarray(0, n);
  }

  protectRtcp(packet) {
    const out = Buffer.allocUnsafe(packet.length + this.#tag + 4);
    this.protectRtcpInto(packet, out);
    return out;
  }

  unprotectRtcp(packet) {
    const out = Buffer.allocUnsafe(packet.length);
    const n = this.#b.unprotectRtcp(this.#inbound(), packet, out);
    return n < 0 ? null : out.subarray(0, n);
  }

  /** Frees the libsrtp contexts now instead of at garbage collection. */
  close() {
    if (this.#out) this.#b.close(this.#out);
    if (this.#in) this.#b.close(this.#in);
  }
}

/** The addon's API, or undefined when it is not built / cannot load. */
function loadNativeSrtp() {
  const b = binding.load();
  if (!b) return undefined;
  return { NativeSrtpSession, SrtpProfile, version: b.version() };
}

/** Why loadNativeSrtp() returned undefined (for a startup log line). */
function nativeSrtpLoadError() {
  return binding.loadError();
}

exports.loadNativeSrtp = loadNativeSrtp;
exports.nativeSrtpLoadError = nativeSrtpLoadError;
exports.NativeSrtpSession = NativeSrtpSession;
exports.SrtpProfile = SrtpProfile;
