/**
 * NATS subjects. One place, so edges, relays and transceivers of different
 * versions agree on names; payloads are validated with ./schemas.ts.
 */
export const SUBJECT_PREFIX = 'parley.v1';

/** Transceivers publish their state here about once a second. */
export const ANNOUNCE_SUBJECT = `${SUBJECT_PREFIX}.transceiver.announce`;

/** Anyone may publish here to ask every transceiver to announce at once (new edge or relay). */
export const DISCOVER_SUBJECT = `${SUBJECT_PREFIX}.transceiver.discover`;

/** Request/reply: an SDP offer for one transceiver; the reply carries the answer. */
export function offerSubject(transceiverId: string): string {
  return `${SUBJECT_PREFIX}.transceiver.${safeToken(transceiverId)}.offer`;
}

/** Request/reply: end one session on its transceiver. */
export function closeSubject(transceiverId: string): string {
  return `${SUBJECT_PREFIX}.transceiver.${safeToken(transceiverId)}.close`;
}

/** Request/reply: one session's state (for tests, ops and the browser page). */
export function sessionStateSubject(transceiverId: string): string {
  return `${SUBJECT_PREFIX}.transceiver.${safeToken(transceiverId)}.session`;
}

/** Request/reply: restart ICE for one session (WHIP PATCH, RFC 9725 §4.3.2): new credentials, same DTLS. */
export function iceRestartSubject(transceiverId: string): string {
  return `${SUBJECT_PREFIX}.transceiver.${safeToken(transceiverId)}.ice-restart`;
}

/** Transceiver ids become one subject token: no dots, spaces or wildcards. */
export function safeToken(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new Error(`transceiver id "${id}" must be 1-64 chars of A-Z a-z 0-9 _ -`);
  }
  return id;
}

/**
 * Transceivers publish here when a session ends; relays then revoke its
 * routing token (close its flows, refuse it until it expires), so a token
 * never outlives its session as a UDP tunnel.
 */
export const SESSION_REVOKED_SUBJECT = `${SUBJECT_PREFIX}.session.revoked`;
