import { SRTP_PROFILES, type SrtpProfile, srtpProfileFromDtlsId } from '../srtp/profiles.js';

/** DTLS-SRTP keying material, from our side's point of view. */
export interface SrtpKeyingMaterial {
  profile: SrtpProfile;
  localKey: Buffer;
  localSalt: Buffer;
  remoteKey: Buffer;
  remoteSalt: Buffer;
}

/** The slice of werift's DTLS socket that holds the negotiated profile and the RFC 5764 exporter. */
export interface WeriftDtlsSocket {
  srtp: { srtpProfile?: number };
  extractSessionKeys(
    keyLength: number,
    saltLength: number,
  ): { localKey: Buffer; localSalt: Buffer; remoteKey: Buffer; remoteSalt: Buffer };
}

/**
 * The SRTP keys a finished werift handshake negotiated, for Parley's own
 * SRTP; the same for the transceiver (LitePeer) and werift clients
 * (client-media-takeover).
 */
export function extractSrtpKeys(dtls: WeriftDtlsSocket | undefined): SrtpKeyingMaterial {
  const id = dtls?.srtp.srtpProfile;
  const profile = id === undefined ? undefined : srtpProfileFromDtlsId(id);
  if (!dtls || !profile) throw new Error(`DTLS finished without an SRTP profile Parley implements (${id})`);
  const { keyLength, saltLength } = SRTP_PROFILES[profile];
  return { profile, ...dtls.extractSessionKeys(keyLength, saltLength) };
}
