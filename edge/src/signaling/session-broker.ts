/**
 * What the HTTP layer needs from whatever places sessions on transceivers.
 * The HTTP app depends only on this, so it is tested with a tiny double and
 * the NATS implementation is tested against a real NATS server.
 */
export interface CreateSessionRequest {
  offer: string;
  /** Agent bridge name from `?agent=`; the transceiver's default when absent. */
  agent?: string;
  /** JWT subject, forwarded for logs and per-user limits. */
  subject?: string;
  /** The deployment's geo hint for this request (the `PARLEY_GEO_HEADER` header's value), if any. */
  geoHint?: string;
}

export type CreateErrorCode =
  /** The transceiver could not use the offer. */
  | 'bad_offer'
  /** No live transceiver in any cluster this edge may use. */
  | 'no_transceivers'
  /** Every candidate of every cluster is full. */
  | 'no_capacity'
  /** The chosen transceiver is shutting down (its announcement lagged). */
  | 'draining'
  /** The transceiver did not answer in time. */
  | 'timeout'
  /** NATS could not deliver the request (no responder, disconnected). */
  | 'unavailable'
  /** The transceiver failed or answered something that is not a valid reply. */
  | 'transceiver_error';

export type CloseErrorCode = 'not_found' | 'timeout' | 'unavailable' | 'transceiver_error';

export type BrokerErrorCode = CreateErrorCode | CloseErrorCode;

export type CreateResult =
  | { ok: true; sessionId: string; answer: string }
  | { ok: false; code: CreateErrorCode; detail: string };

export type CloseResult = { ok: true } | { ok: false; code: CloseErrorCode; detail: string };

/** `not_connected`: the session's first ICE/DTLS setup has not completed, so there is nothing to restart. */
export type RestartIceErrorCode = CloseErrorCode | 'not_connected' | 'bad_offer';

/** `sdpfrag` is the transceiver's answer fragment; empty for a trickle-only PATCH. */
export type RestartIceResult =
  | { ok: true; sdpfrag: string }
  | { ok: false; code: RestartIceErrorCode; detail: string };

export interface SessionBroker {
  create(req: CreateSessionRequest): Promise<CreateResult>;
  close(sessionId: string): Promise<CloseResult>;
  /** WHIP PATCH (RFC 9725 §4.3.2); brokers without it answer 405. */
  restartIce?(req: {
    sessionId: string;
    ufrag: string;
    pwd: string;
    mid?: string;
  }): Promise<RestartIceResult>;
}
