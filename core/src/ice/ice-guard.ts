import type { Address } from 'werift';
import { checkBindingRequest, isStunPacket } from './stun-guard.js';

/** The slice of werift's ICE connection the guard needs. */
export interface GuardedConnection {
  localUsername: string;
  localPassword: string;
  remoteUsername: string;
  nominated?: { remoteAddr: Address } | undefined;
  resetNominatedPair(): void;
}

/** werift's UDP transport: `onData` is the callback it feeds received datagrams through. */
export interface GuardedTransport {
  onData: (data: Buffer, addr: Address) => void;
}

export interface IceGuardEvents {
  /** A request passed USERNAME and MESSAGE-INTEGRITY checks (consent is fresh). */
  onConsent(addr: Address): void;
  /** A request failed the checks and was dropped before werift saw it. */
  onRejected(reason: string, addr: Address): void;
  /** Media moved to a new relay flow (relay restart, client NAT rebinding). */
  onPathChange(from: Address, to: Address): void;
}

/**
 * Interposes on the session socket's receive callback: authenticates every
 * STUN Binding Request, drops the rest of STUN that fails, and lets werift
 * re-nominate when a verified nomination arrives from a new address.
 *
 * Why here and not in werift's iceFilterStunResponse: that hook sees the
 * parsed message but not the raw bytes MESSAGE-INTEGRITY is computed over,
 * and it runs after werift has already decided to nominate.
 *
 * Why re-nominate: after a relay restart the relay opens a fresh upstream
 * socket, so the transceiver sees the same client at a new address. An
 * ice-lite agent keeps its first nominated pair forever (RFC 8445 7.3.1.5),
 * which would leave the answer path pointing at a dead socket.
 */
export function guardIce(
  conn: GuardedConnection,
  transport: GuardedTransport,
  events: IceGuardEvents,
): () => void {
  const deliver = transport.onData;
  let password = Buffer.from(conn.localPassword, 'utf8');
  let passwordFor = conn.localPassword;
  transport.onData = (data, addr) => {
    if (!isStunPacket(data)) {
      deliver(data, addr);
      return;
    }
    // Binding responses and indications are werift's business (we are ice-lite: none expected).
    if (data.readUInt16BE(0) !== 0x0001) {
      deliver(data, addr);
      return;
    }
    if (passwordFor !== conn.localPassword) {
      passwordFor = conn.localPassword;
      password = Buffer.from(passwordFor, 'utf8');
    }
    const verdict = checkBindingRequest(data, conn.localUsername, conn.remoteUsername, password);
    if (!verdict.ok) {
      events.onRejected(verdict.reason, addr);
      return;
    }
    events.onConsent(addr);
    const current = conn.nominated?.remoteAddr;
    if (verdict.useCandidate && current && (current[0] !== addr[0] || current[1] !== addr[1])) {
      events.onPathChange(current, addr);
      conn.resetNominatedPair();
    }
    deliver(data, addr);
  };
  return () => {
    transport.onData = deliver;
  };
}
