/**
 * Which ICE/DTLS transport an offer's m-sections share, read from an SDP
 * already parsed by sdp-transform (the edge and the transceiver each parse
 * the offer anyway; the structural types below are the fields this needs).
 *
 * A Parley session has exactly one transport: one routing-token ufrag, one
 * relay flow, one DTLS association. So an offer is usable when it has a single
 * active m-section, or when one BUNDLE group holds every active m-section.
 * In a BUNDLE group the offerer-tagged m-section (the first mid of the group,
 * RFC 8843 §7.2.1) carries the transport's ICE credentials: the other members
 * may carry different ones (aiortc gives every m-section its own), which the
 * offerer stops using once the answer accepts the group.
 *
 * Offers with several transports (no BUNDLE group: webrtcbin's default
 * bundle-policy=none, or sections outside the group) are refused with a
 * message naming the fix rather than answered: each extra transport would
 * need its own routing token, relay flow and DTLS handshake for no gain to a
 * one-stream voice call.
 */

export interface OfferMediaFields {
  type: string;
  port: number;
  mid?: string | number;
  iceUfrag?: string | number;
  icePwd?: string | number;
  bundleOnly?: string;
}

export interface OfferFields {
  groups?: { type: string | number; mids: string | number }[];
  iceUfrag?: string | number;
  icePwd?: string | number;
  media: OfferMediaFields[];
}

export type OfferTransport =
  | {
      ok: true;
      /** The mid whose credentials count (the BUNDLE tag, or the one active section); undefined if it has none. */
      tagMid: string | undefined;
      ufrag: string;
      pwd: string;
      /** Whether the offer bundles (the answer must then carry a BUNDLE group, and only then). */
      bundled: boolean;
    }
  | { ok: false; detail: string };

/** What every "more than one transport" refusal tells the client to do. */
export const MAX_BUNDLE_HINT =
  'Parley runs one ICE/DTLS transport per session: offer with bundle policy max-bundle ' +
  "(RTCPeerConnection { bundlePolicy: 'max-bundle' }, GStreamer webrtcbin bundle-policy=max-bundle)";

export function offerTransport(sdp: OfferFields): OfferTransport {
  // Port 0 rejects an m-section, unless it is bundle-only (RFC 9143).
  const active = sdp.media.filter((m) => m.port > 0 || m.bundleOnly !== undefined);
  if (active.length === 0) return { ok: false, detail: 'offer has no active m-section' };
  // String(): sdp-transform turns an all-digit semantics ("a=group:0 x") into a number (found by fuzzing).
  const groups = (sdp.groups ?? []).filter((g) => String(g.type).toUpperCase() === 'BUNDLE');
  if (groups.length > 1)
    return { ok: false, detail: `offer has ${groups.length} BUNDLE groups. ${MAX_BUNDLE_HINT}` };
  const group = String(groups[0]?.mids ?? '')
    .split(/\s+/)
    .filter(Boolean);

  let tag: OfferMediaFields | undefined;
  if (group.length === 0) {
    if (active.length > 1)
      return {
        ok: false,
        detail: `offer has ${active.length} m-sections and no BUNDLE group, so each would need its own transport. ${MAX_BUNDLE_HINT}`,
      };
    tag = active[0];
  } else {
    const outside = active.filter((m) => m.mid === undefined || !group.includes(String(m.mid)));
    if (outside.length > 0) {
      const names = outside.map((m) => (m.mid === undefined ? m.type : `mid=${m.mid}`)).join(', ');
      return {
        ok: false,
        detail: `offer has m-sections outside its BUNDLE group (${names}), each on its own transport. ${MAX_BUNDLE_HINT}`,
      };
    }
    // The tag is the first mid of the group that names an active, non-bundle-only
    // section (a bundle-only one cannot be tagged); failing that, the first member.
    const members = group.flatMap((mid) => active.filter((s) => String(s.mid) === mid));
    tag = members.find((m) => m.port > 0 && m.bundleOnly === undefined) ?? members[0];
    if (!tag) return { ok: false, detail: 'offer BUNDLE group has no usable tagged m-section' };
  }
  // sdp-transform turns all-digit values into numbers: keep them strings.
  const ufrag = str(tag?.iceUfrag ?? sdp.iceUfrag);
  const pwd = str(tag?.icePwd ?? sdp.icePwd);
  const tagMid = tag?.mid === undefined ? undefined : String(tag.mid);
  if (ufrag === undefined || pwd === undefined)
    return {
      ok: false,
      detail: `the m-section whose transport counts (${tagMid === undefined ? 'the first' : `mid=${tagMid}`}) has no a=ice-ufrag / a=ice-pwd`,
    };
  return { ok: true, tagMid, ufrag, pwd, bundled: group.length > 0 };
}

function str(v: string | number | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}
