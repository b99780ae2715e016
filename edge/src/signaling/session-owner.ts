import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The session id a client sees (in `Location`) versus the one transceivers
 * know. Binding the public id to the JWT subject lets any edge replica refuse
 * a DELETE from another user without shared state: the public id carries a
 * MAC over (session id, subject), and only the subject it was minted for can
 * present a matching one.
 */
export interface SessionIds {
  /** The id to put in the session URL for a session created by `subject`. */
  publicId(sessionId: string, subject: string | undefined): string;
  /** The transceiver's session id, or undefined when the id was not minted for `subject`. */
  resolve(publicId: string, subject: string | undefined): string | undefined;
}

/** Auth off: everyone is the same anonymous user, so the session id is used as is. */
export const plainSessionIds: SessionIds = {
  publicId: (sessionId) => sessionId,
  resolve: (publicId) => publicId,
};

const TAG_BYTES = 16;
const TAG_CHARS = Math.ceil((TAG_BYTES * 8) / 6);

/**
 * Owner-bound ids: `<session id>.<base64url HMAC-SHA256 tag, 128 bits>`. The
 * MAC key is derived from the JWT secret (HKDF with its own label), which
 * every edge replica already shares, so it never signs anything a token
 * verifier would accept.
 */
export function ownerBoundSessionIds(jwtSecret: string): SessionIds {
  const key = Buffer.from(hkdfSync('sha256', jwtSecret, '', 'parley session owner v1', 32));
  const tag = (sessionId: string, subject: string | undefined): Buffer =>
    createHmac('sha256', key)
      .update(`${sessionId}\n${subject ?? ''}`)
      .digest()
      .subarray(0, TAG_BYTES);
  return {
    publicId: (sessionId, subject) => `${sessionId}.${tag(sessionId, subject).toString('base64url')}`,
    resolve(publicId, subject) {
      const dot = publicId.lastIndexOf('.');
      if (dot <= 0 || publicId.length - dot - 1 !== TAG_CHARS) return undefined;
      const sessionId = publicId.slice(0, dot);
      const given = Buffer.from(publicId.slice(dot + 1), 'base64url');
      if (given.length !== TAG_BYTES) return undefined;
      return timingSafeEqual(given, tag(sessionId, subject)) ? sessionId : undefined;
    },
  };
}
