import type { SessionState } from '@parley/shared/nats/schemas.js';

/** Why a session ended; reported to the client (session.ended) and counted per reason. */
export type CloseReason =
  | 'deleted'
  | 'ice_timeout'
  | 'consent_lost'
  | 'expired'
  | 'transport_failed'
  | 'agent_ended'
  | 'shutdown'
  | 'setup_failed'
  | 'drain_timeout';

export interface SessionLifecycleOptions {
  /** Creation time, ms. Every later input carries its own `now` on the same clock. */
  now: number;
  /** Not connected by createdAt + iceTimeoutMs → `ice_timeout`. */
  iceTimeoutMs: number;
  /** Connected and no consent for consentTimeoutMs → `consent_lost` (RFC 7675 uses 30 s). */
  consentTimeoutMs: number;
  /** Open at createdAt + maxSessionMs → `expired` (the routing token stops working then anyway). */
  maxSessionMs: number;
  /** Authenticated SRTP/SRTCP counts as consent, for peers that stop consent checks (see mediaAuthenticated). */
  mediaKeepsConsent: boolean;
}

/**
 * What an input changed, or `undefined` when nothing did. The values are
 * shared constants (compare them, never mutate them): inputs allocate nothing.
 */
export type LifecycleChange =
  | { readonly state: 'connecting' | 'connected' }
  | { readonly state: 'closed'; readonly reason: CloseReason };

export interface VerifiedCheck {
  /** The request carried USE-CANDIDATE (a nomination). */
  useCandidate: boolean;
  /** It came from an address other than the nominated one (false while nothing is nominated). */
  fromNewAddress: boolean;
}

const TO_CONNECTING: LifecycleChange = Object.freeze({ state: 'connecting' });
const TO_CONNECTED: LifecycleChange = Object.freeze({ state: 'connected' });
// One constant per reason; a Record so a new CloseReason cannot be forgotten here.
const CLOSED: Readonly<Record<CloseReason, LifecycleChange>> = Object.freeze({
  deleted: Object.freeze({ state: 'closed', reason: 'deleted' }),
  ice_timeout: Object.freeze({ state: 'closed', reason: 'ice_timeout' }),
  consent_lost: Object.freeze({ state: 'closed', reason: 'consent_lost' }),
  expired: Object.freeze({ state: 'closed', reason: 'expired' }),
  transport_failed: Object.freeze({ state: 'closed', reason: 'transport_failed' }),
  agent_ended: Object.freeze({ state: 'closed', reason: 'agent_ended' }),
  shutdown: Object.freeze({ state: 'closed', reason: 'shutdown' }),
  setup_failed: Object.freeze({ state: 'closed', reason: 'setup_failed' }),
  drain_timeout: Object.freeze({ state: 'closed', reason: 'drain_timeout' }),
});

/**
 * The lifecycle of one transceiver session, created → connecting →
 * connected → closed, as a pure state machine: no timers, no I/O, no clock.
 * The owner feeds it what it observes (verified STUN checks, DTLS up,
 * authenticated media, close requests), each with the time it happened, and
 * calls `tick` when `nextDeadline()` comes due; it applies the changes the
 * machine reports (state events, tearing the transport down).
 *
 * Deadlines are absolute and fire at their boundary: a deadline D has fired
 * for any now >= D. Every input first settles the deadlines at its `now`, so
 * the outcome does not depend on how late the owner's timer ran: a DTLS
 * connect that arrives after the ICE deadline, before the timer got to it,
 * closes the session with `ice_timeout` as a punctual timer would have.
 *
 * `closed` is final: later inputs are ignored and `close` keeps the first reason.
 */
export class SessionLifecycle {
  readonly createdAt: number;
  private readonly iceDeadline: number;
  private readonly expiresAt: number;
  private readonly consentTimeoutMs: number;
  private readonly mediaKeepsConsent: boolean;
  private st: SessionState = 'created';
  private reason: CloseReason | undefined;
  private connected: number | undefined;
  // NaN until the first consent: keeps the per-packet path a plain number store.
  private lastConsent = Number.NaN;
  private restartCount = 0;
  private pathChangeCount = 0;

  constructor(opts: SessionLifecycleOptions) {
    for (const key of ['iceTimeoutMs', 'consentTimeoutMs', 'maxSessionMs'] as const) {
      // NaN or <= 0 would make a deadline that never or always fires; Infinity means "never".
      if (!(opts[key] > 0)) throw new RangeError(`${key} must be > 0 (got ${opts[key]})`);
    }
    if (!Number.isFinite(opts.now)) throw new RangeError(`now must be finite (got ${opts.now})`);
    this.createdAt = opts.now;
    this.iceDeadline = opts.now + opts.iceTimeoutMs;
    this.expiresAt = opts.now + opts.maxSessionMs;
    this.consentTimeoutMs = opts.consentTimeoutMs;
    this.mediaKeepsConsent = opts.mediaKeepsConsent;
  }

  get state(): SessionState {
    return this.st;
  }

  /** The reason the session closed with; undefined while open. */
  get closeReason(): CloseReason | undefined {
    return this.reason;
  }

  /** When DTLS came up; undefined if it never did. */
  get connectedAt(): number | undefined {
    return this.connected;
  }

  /** The last consent refresh; undefined before the first one. */
  get lastConsentAt(): number | undefined {
    return Number.isNaN(this.lastConsent) ? undefined : this.lastConsent;
  }

  /** ICE restarts seen (see iceRestarted). */
  get restarts(): number {
    return this.restartCount;
  }

  /** Nominations from a new address while connected: the media path moved (relay restart, NAT rebinding). */
  get pathChanges(): number {
    return this.pathChangeCount;
  }

  /**
   * A STUN Binding Request that passed USERNAME and MESSAGE-INTEGRITY. Only
   * the client holding this session's ICE password can produce one, so it is
   * consent (RFC 7675). Any address counts, not only the nominated one: after
   * a relay restart the client's checks arrive through a new relay flow, and
   * the nomination that moves the path there may come later than the check.
   */
  verifiedCheck(now: number, check: VerifiedCheck): LifecycleChange | undefined {
    const fired = this.settle(now);
    if (fired) return CLOSED[fired];
    if (this.st === 'closed') return undefined;
    this.lastConsent = now;
    if (check.useCandidate && check.fromNewAddress && this.st === 'connected') this.pathChangeCount++;
    if (this.st !== 'created') return undefined;
    this.st = 'connecting';
    return TO_CONNECTING;
  }

  /** DTLS is up (and with it SRTP): the session carries media. */
  dtlsConnected(now: number): LifecycleChange | undefined {
    const fired = this.settle(now);
    if (fired) return CLOSED[fired];
    if (this.st === 'closed' || this.st === 'connected') return undefined;
    this.st = 'connected';
    this.connected = now;
    return TO_CONNECTED;
  }

  /**
   * An SRTP or SRTCP packet passed authentication. Called per packet, so it
   * returns nothing and at most records the time; a lapsed consent is left for
   * `tick` to report.
   *
   * With `mediaKeepsConsent` it refreshes consent. This deviates from RFC
   * 7675, which wants consent from STUN checks only, because some stacks
   * (libnice-based GStreamer webrtcbin among them) stop sending checks once
   * connected and would be cut off after consentTimeoutMs of healthy media.
   * It is safe for what consent protects here: only the holder of this
   * session's SRTP keys, negotiated over the DTLS handshake with the client,
   * can produce a packet that authenticates, so it proves the peer is still
   * there and still wants the media, as a verified check would. It cannot
   * revive a consent that has already lapsed.
   */
  mediaAuthenticated(now: number): void {
    if (!this.mediaKeepsConsent || this.st !== 'connected') return;
    if (now >= this.consentDeadline()) return;
    this.lastConsent = now;
  }

  /**
   * An ICE restart (new ufrag/password from a renegotiation). DTLS and SRTP
   * survive it, so the state does not change: a connected session stays
   * connected and keeps sending on the current path while the client checks
   * under the new credentials. Checks under the old credentials stop
   * verifying at this point, so the restart refreshes consent to give the new
   * checks one full consent window; the restart itself is authenticated (it
   * came through signaling with the session's token). It does not move the
   * ICE or expiry deadlines.
   */
  iceRestarted(now: number): LifecycleChange | undefined {
    const fired = this.settle(now);
    if (fired) return CLOSED[fired];
    if (this.st === 'closed') return undefined;
    this.restartCount++;
    this.lastConsent = now;
    return undefined;
  }

  /** Closes for a reason from outside (deleted, transport_failed, …). Idempotent: true only for the call that closed it. */
  close(reason: CloseReason): boolean {
    if (this.st === 'closed') return false;
    this.st = 'closed';
    this.reason = reason;
    return true;
  }

  /** Settles the deadlines at `now`; returns the reason if one fired (the machine is then closed). */
  tick(now: number): CloseReason | undefined {
    return this.settle(now);
  }

  /**
   * The earliest time at which `tick` would close the session if no other
   * input arrives; Infinity once closed. Inputs move it (a verified check
   * pushes the consent deadline out, DTLS swaps the ICE deadline for the
   * consent one, which can be earlier when consentTimeoutMs < iceTimeoutMs),
   * so the owner re-reads it after every input that returned a change and
   * after every `tick` that fired nothing. Missing a later-moving update is
   * harmless (the early tick fires nothing and the owner reschedules).
   */
  nextDeadline(): number {
    switch (this.st) {
      case 'closed':
        return Number.POSITIVE_INFINITY;
      case 'connected':
        return Math.min(this.consentDeadline(), this.expiresAt);
      default:
        return Math.min(this.iceDeadline, this.expiresAt);
    }
  }

  /**
   * The deadline that passed first wins when several have; on a tie the
   * specific one (ICE, consent) beats the generic `expired`.
   */
  private settle(now: number): CloseReason | undefined {
    if (this.st === 'closed') return undefined;
    let reason: CloseReason | undefined;
    if (this.st === 'connected') {
      const consent = this.consentDeadline();
      if (now >= consent) reason = consent <= this.expiresAt ? 'consent_lost' : 'expired';
    } else if (now >= this.iceDeadline) {
      reason = this.iceDeadline <= this.expiresAt ? 'ice_timeout' : 'expired';
    }
    if (!reason && now >= this.expiresAt) reason = 'expired';
    if (!reason) return undefined;
    this.st = 'closed';
    this.reason = reason;
    return reason;
  }

  /**
   * Consent is judged only while connected. A session that connected without
   * any consent on record (not expected: ICE checks precede DTLS) gets one
   * full window from the moment it connected.
   *
   * The old per-session interval closed on `now - last > timeout`; here the
   * deadline is `last + timeout` inclusive like the others, so nextDeadline()
   * is always an instant at which tick fires and an owner never re-arms a
   * timer for the same time.
   */
  private consentDeadline(): number {
    const base = Number.isNaN(this.lastConsent) ? (this.connected ?? this.createdAt) : this.lastConsent;
    return base + this.consentTimeoutMs;
  }
}
