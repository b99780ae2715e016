/**
 * The DTLS role a transceiver takes for an offer. It prefers server
 * (answers a=setup:passive): as DTLS client werift sleeps a fixed 100 ms
 * before its first ClientHello, while a browser that is the DTLS client
 * sends it as soon as its first ICE check is answered. The transceiver is
 * listening by then: it starts DTLS at the first verified check, without
 * waiting for the nomination (TransceiverSession.onBindingRequest). Only an
 * offer that insists on being the server (a=setup:passive) gets a client.
 */
export function dtlsRoleForOffer(offer: string): 'server' | 'client' {
  // Session-level or first media-level attribute; bundled audio has one transport.
  const m = /^a=setup:(\w+)\s*$/m.exec(offer);
  return m?.[1]?.toLowerCase() === 'passive' ? 'client' : 'server';
}
