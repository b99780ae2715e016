import { offerTransport } from '@parley/shared/webrtc/offer-transport.js';
import { type MediaDescription, parse, type SessionDescription } from 'sdp-transform';

export type OfferCheck = { ok: true; audioMids: string[] } | { ok: false; detail: string };

// RFC 8839 §5.4: ice-char is ALPHA / DIGIT / "+" / "/"; ufrag 4..256, pwd 22..256.
const ICE_UFRAG = /^[A-Za-z0-9+/]{4,256}$/;
const ICE_PWD = /^[A-Za-z0-9+/]{22,256}$/;
const FINGERPRINT_HASH = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15,63}$/;

/**
 * Cheap checks on an SDP offer before it costs a NATS round trip and a
 * transceiver's time: it must be SDP, carry at least one usable audio
 * m-section, and give ICE credentials and a DTLS fingerprint for each one,
 * since without them no connection can ever form. Every active m-section
 * must share one transport (one section, or one BUNDLE group holding them
 * all): a session has one routing token, relay flow and DTLS association, so
 * an offer with several transports is refused here, naming bundle-policy
 * max-bundle, rather than answered with transports that never connect.
 * Codec negotiation is left to the transceiver, which answers bad_offer if
 * nothing matches.
 */
export function validateOffer(sdp: string): OfferCheck {
  if (!/^v=0\r?\n/.test(sdp)) return fail('not an SDP offer: the first line must be "v=0"');
  let parsed: SessionDescription;
  try {
    parsed = parse(sdp);
  } catch {
    return fail('SDP could not be parsed');
  }
  if (!parsed.origin) return fail('SDP has no origin (o=) line');

  const audio = (parsed.media ?? []).filter((m) => m.type === 'audio' && isActive(m));
  if (audio.length === 0) return fail('offer has no active audio m-section');

  const transport = offerTransport(parsed);
  if (!transport.ok) return fail(transport.detail);

  const mids: string[] = [];
  for (const [index, m] of audio.entries()) {
    const where = `audio m-section ${m.mid !== undefined ? `mid=${m.mid}` : `#${index}`}`;
    if (!/SAVP/.test(m.protocol ?? '')) return fail(`${where} must use DTLS-SRTP (UDP/TLS/RTP/SAVPF)`);
    const ufrag = m.iceUfrag ?? parsed.iceUfrag;
    const pwd = m.icePwd ?? parsed.icePwd;
    if (ufrag === undefined || pwd === undefined) return fail(`${where} has no a=ice-ufrag / a=ice-pwd`);
    if (!ICE_UFRAG.test(ufrag)) return fail(`${where} has an invalid a=ice-ufrag`);
    if (!ICE_PWD.test(pwd)) return fail(`${where} has an invalid a=ice-pwd`);
    const fingerprint = m.fingerprint ?? parsed.fingerprint;
    if (!fingerprint) return fail(`${where} has no a=fingerprint (DTLS)`);
    if (!FINGERPRINT_HASH.test(fingerprint.hash)) return fail(`${where} has a malformed a=fingerprint`);
    if (m.mid !== undefined) mids.push(String(m.mid));
  }
  return { ok: true, audioMids: mids };
}

/** Port 0 rejects an m-section, unless it is bundle-only (RFC 9143). */
function isActive(m: MediaDescription): boolean {
  return (typeof m.port === 'number' && m.port > 0) || m.bundleOnly !== undefined;
}

function fail(detail: string): OfferCheck {
  return { ok: false, detail };
}
