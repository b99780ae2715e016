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

/** tuneWerift for this process's werift, from inside the adapter (nothing else imports werift). */
export async function tuneWeriftForProcess(): Promise<TuningReport> {
  const { RTCDtlsTransport } = await import('werift');
  return tuneWerift(RTCDtlsTransport, import.meta.url);
}
