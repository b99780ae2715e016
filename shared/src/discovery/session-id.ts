import { randomBytes } from 'node:crypto';

/**
 * Session ids name their transceiver so that any edge replica can route a
 * DELETE without shared state, and carry 128 random bits so that the URL
 * itself is the capability (as a WHIP resource URL is).
 */
export function newSessionId(routeId: string): string {
  return `${routeId}-${randomBytes(16).toString('base64url')}`;
}

export function routeIdOfSession(sessionId: string): string | undefined {
  const m = /^([0-9a-f]{12})-[A-Za-z0-9_-]{22}$/.exec(sessionId);
  return m?.[1];
}
