import type { Socket } from 'node:net';

const PATCHED = Symbol.for('parley.weriftTcpNoDelay');

type RegisterSocket = (this: unknown, socket: Socket, ...rest: unknown[]) => unknown;

/**
 * werift's ICE-TCP sockets (RFC 4571 frames, one write each) keep Nagle's
 * algorithm on, so a frame written while the previous one is still
 * unacknowledged waits for the peer's delayed ACK (up to 40 ms on Linux):
 * measured through the relay's TCP port, +43 ms on DTLS (a flight is several
 * frames) and a 32 ms echo RTT p99 against 6 ms with Nagle off. Browsers
 * turn it off for ICE-TCP too. This wraps the method werift registers every
 * TCP socket through (on the base class of its active and passive
 * protocols) to set TCP_NODELAY first. Returns false if werift no longer
 * has that method (then nothing changes).
 */
export function disableNagleOnWeriftTcp(protocolClass: { prototype: object }): boolean {
  let owner: object | null = protocolClass.prototype;
  while (owner && !Object.hasOwn(owner, 'registerSocket')) owner = Object.getPrototypeOf(owner);
  if (!owner) return false;
  const target = owner as { registerSocket: RegisterSocket; [PATCHED]?: true };
  if (target[PATCHED]) return true;
  const original = target.registerSocket;
  if (typeof original !== 'function') return false;
  target.registerSocket = function (this: unknown, socket: Socket, ...rest: unknown[]) {
    socket.setNoDelay(true);
    return original.call(this, socket, ...rest);
  };
  target[PATCHED] = true;
  return true;
}
