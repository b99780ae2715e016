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
 * The answer's only candidate is the relay address advertised for the
 * client's region: all media enters through the relay's one public port.
 */
export function answerWithRelayCandidate(answer: string, relay: { ip: string; port: number }): string {
  const sdp = parse(answer);
  for (const m of sdp.media) {
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
    m.endOfCandidates = 'end-of-candidates';
    // The connection line should name the address media really goes to.
    m.connection = { version: relay.ip.includes(':') ? 6 : 4, ip: relay.ip };
    m.port = relay.port;
    if (m.rtcp)
      m.rtcp = { port: relay.port, netType: 'IN', ipVer: relay.ip.includes(':') ? 6 : 4, address: relay.ip };
  }
  return write(sdp);
}
