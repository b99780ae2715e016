import { type OfferTransport, offerTransport } from '@parley/shared/webrtc/offer-transport.js';
import { parse, write } from 'sdp-transform';

/**
 * The transceiver never talks to the client directly (ice-lite, reachable only
 * through relays), so the client's own candidates are useless to it; dropping
 * them also keeps werift from binding pairs to addresses it cannot reach.
 */
export function stripCandidates(offer: string): string {
  const sdp = parse(offer);
  for (const m of sdp.media) {
    delete m.candidates;
    delete m.endOfCandidates;
  }
  return write(sdp);
}

/**
 * Priority of the relay's ICE-TCP candidate (RFC 8445 §5.1.2.1 with RFC
 * 6544 §4.2's preferences): type 105, local (4 << 13) + 8191, component 1.
 * Below the UDP candidate's, so clients use TCP only when UDP fails.
 */
export const RELAY_TCP_PRIORITY = (105 << 24) + (((4 << 13) + 8191) << 8) + 255;

/**
 * The answer's candidates are the relay addresses advertised for the
 * client's region: its one public UDP port, and, when advertised, its
 * ICE-TCP port after it (lower priority) for clients whose UDP is blocked.
 */
export function answerWithRelayCandidate(
  answer: string,
  relay: { ip: string; port: number },
  relayTcp?: { ip: string; port: number },
): string {
  const sdp = parse(answer);
  for (const m of sdp.media) {
    // a=ice-lite is session-level only (RFC 8839 §5.3). werift writes it per
    // m-section, where Firefox and Chromium ignore it and take the transceiver
    // for a full ICE agent. Lift it to the session. Chromium then nominates
    // only on a later check, after sending its ClientHello (see
    // LitePeer.selectBeforeNomination for how the transceiver still answers it).
    // sdp-transform parses it at either level but types it at the session only.
    const media = m as { icelite?: string };
    if (media.icelite) {
      delete media.icelite;
      sdp.icelite = 'ice-lite';
    }
    m.candidates = [
      {
        foundation: 'relay',
        component: 1,
        transport: 'udp',
        // Highest host priority: it is the only candidate anyway.
        priority: 2130706431,
        ip: relay.ip,
        port: relay.port,
        type: 'host',
      },
    ];
    if (relayTcp)
      m.candidates.push({
        foundation: 'relaytcp',
        component: 1,
        transport: 'tcp',
        // RFC 6544 §4.2: host type preference 105 (below UDP's 126), passive direction 4.
        priority: RELAY_TCP_PRIORITY,
        ip: relayTcp.ip,
        port: relayTcp.port,
        type: 'host',
        tcptype: 'passive',
      });
    m.endOfCandidates = 'end-of-candidates';
    // The connection line should name the address media really goes to.
    m.connection = { version: relay.ip.includes(':') ? 6 : 4, ip: relay.ip };
    m.port = relay.port;
    if (m.rtcp)
      m.rtcp = { port: relay.port, netType: 'IN', ipVer: relay.ip.includes(':') ? 6 : 4, address: relay.ip };
  }
  return write(sdp);
}

/** The one transport of an offer (see offer-transport.ts): the BUNDLE tag's credentials, or why it has several. */
export function offerTransportOf(offer: string): OfferTransport {
  return offerTransport(parse(offer));
}

/**
 * Why an answer cannot go out, or undefined when it is fine: every m-section
 * must carry our ufrag, the routing token, since a relay can route nothing
 * else; and it carries a BUNDLE group exactly when the offer had one (RFC 8843
 * forbids a group the offerer did not offer). werift builds the answer, so
 * this checks its work instead of trusting one version's behaviour.
 */
export function answerTransportProblem(
  answer: string,
  localUfrag: string,
  bundled: boolean,
): string | undefined {
  const sdp = parse(answer);
  const active = sdp.media.filter((m) => m.port !== 0);
  for (const m of active) {
    const ufrag = m.iceUfrag ?? sdp.iceUfrag;
    if (String(ufrag) !== localUfrag)
      return `answer section mid=${m.mid} carries ICE ufrag ${ufrag}, not the session's routing token`;
  }
  const hasBundle = (sdp.groups ?? []).some((g) => String(g.type).toUpperCase() === 'BUNDLE');
  if (hasBundle !== bundled)
    return bundled
      ? 'answer dropped the offered BUNDLE group'
      : 'answer has a BUNDLE group the offer did not offer';
  return undefined;
}
