import { useNativeX25519 } from './native-x25519.js';

/** The slice of werift's RTCCertificate this module touches. */
export interface FingerprintedCertificate {
  getFingerprints(): unknown[];
}

/** werift's RTCDtlsTransport, for its process-wide certificate. */
export interface CertificateSource {
  SetupCertificate(): Promise<FingerprintedCertificate>;
}

const MEMO = Symbol.for('parley.memoizedFingerprints');

/**
 * werift's getFingerprints() parses the PEM certificate and hashes it on
 * every call (~0.2 ms), and every SDP it builds calls it several times. The
 * certificate never changes, so the fingerprints are computed once.
 */
export function memoizeFingerprints<T extends FingerprintedCertificate>(cert: T): T {
  const marked = cert as T & { [MEMO]?: true };
  if (marked[MEMO]) return cert;
  const fingerprints = cert.getFingerprints();
  // A fresh array each time, as before: callers may keep or extend it.
  cert.getFingerprints = () => [...fingerprints];
  marked[MEMO] = true;
  return cert;
}

export interface TuningReport {
  nativeX25519: { ok: true } | { ok: false; reason: string };
  memoizedFingerprints: boolean;
}

/**
 * The per-process werift setup fixes, for transceivers and load generators
 * alike: native X25519 for the DTLS key exchange, and the one DTLS
 * certificate werift shares across peer connections (RTCDtlsTransport's
 * static one, which every connection without its own certificates uses)
 * with its fingerprints computed once. `fromModule` is the caller's
 * import.meta.url, so werift resolves as it does for the caller.
 */
export async function tuneWerift(dtls: CertificateSource, fromModule: string): Promise<TuningReport> {
  const nativeX25519 = useNativeX25519(fromModule);
  let memoizedFingerprints = false;
  try {
    memoizeFingerprints(await dtls.SetupCertificate());
    memoizedFingerprints = true;
  } catch {
    // Without the memo every SDP recomputes the fingerprints: slower, never wrong.
  }
  return { nativeX25519, memoizedFingerprints };
}

/**
 * Node's Buffer pool chunk for a process that keeps werift peers for a
 * connection's whole life (a transceiver): 2 KiB. Node hands
 * out small Buffers (under half the pool size) as slices of one shared
 * chunk, 64 KiB since Node 24, and a chunk stays allocated while any slice
 * of it lives. werift keeps small slices for as long as a connection lasts
 * (the DTLS master secret, certificate and key copies, handshake messages
 * and fragments), made among the handshake's short-lived ones, so every
 * session pinned one or two whole 64 KiB chunks: 94 KiB of a transceiver's
 * ~550 KiB RSS per session at 300 rtp-echo sessions (heap snapshot:
 * JSArrayBufferData retained through CipherContext.masterSecret and
 * .localCert, DtlsContext.handshakeCache, ...), and their churn fragmented
 * malloc's heap (~50 KiB more). With 8 KiB chunks ~40 KiB per session stay
 * pinned (4 KiB: ~30; no pool: ~8). 2 KiB chunks, measured at 300 rtp-echo
 * sessions right after the lean Event (lean-event.ts), back to back: 129
 * against 140 KiB of RSS per session, 0.111 against 0.107 % of a core per
 * session (the same within run-to-run noise); at 600, 185 against 195. Not
 * unpooled: the packet path allocates a small Buffer each way per packet
 * (the allocating SRTP forms), and unpooled ones cost a malloc each: 1-2 µs
 * more CPU per echoed packet (media-transport-bench). A 2 KiB chunk still
 * holds ~10 of them, so a chunk is allocated every ~10 packets.
 */
export const LONG_LIVED_PEERS_BUFFER_POOL_BYTES = 2 * 1024;

/** Applies LONG_LIVED_PEERS_BUFFER_POOL_BYTES to this process; returns the previous pool size. */
export function sizeBufferPoolForLongLivedPeers(poolBytes = LONG_LIVED_PEERS_BUFFER_POOL_BYTES): number {
  const previous = Buffer.poolSize;
  Buffer.poolSize = poolBytes;
  return previous;
}

/** tuneWerift for this process's werift, from inside the adapter (nothing else imports werift). */
export async function tuneWeriftForProcess(): Promise<TuningReport> {
  const { werift } = await import('./werift-module.js');
  return tuneWerift(werift.RTCDtlsTransport, import.meta.url);
}
