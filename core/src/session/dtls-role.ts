/**
 * The DTLS role a transceiver takes for an offer. It prefers server
 * (answers a=setup:passive): as DTLS client werift sleeps a fixed 100 ms
 * before its first ClientHello, while a browser that is the DTLS client
 * sends it as soon as its ICE check succeeds, and an ICE-lite transceiver
 * is always ready by then (it sees the nominating check first). Only an
 * offer that insists on being the server (a=setup:passive) gets a client.
 */
export function dtlsRoleForOffer(offer: string): 'server' | 'client' {
  // Session-level or first media-level attribute; bundled audio has one transport.
  const m = /^a=setup:(\w+)\s*$/m.exec(offer);
  return m?.[1]?.toLowerCase() === 'passive' ? 'client' : 'server';
}
