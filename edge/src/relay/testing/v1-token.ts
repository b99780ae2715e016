import { createHmac } from 'node:crypto';
import type { TokenKey } from '@parley/shared/token/routing-token.js';

/**
 * A routing token in the retired version 1 layout (bytes 8..9 a per-session
 * UDP port, 10..13 a 4-byte nonce), correctly signed: what a transceiver from
 * before one-port ICE would still hand out during a rollout. Tests use it to
 * show relays drop it as 'token_version' instead of routing it anywhere.
 */
export function encodeV1Token(
  key: TokenKey,
  claims: { routeId: string; port: number; expiresAt: number },
): string {
  const buf = Buffer.alloc(28);
  buf[0] = 1;
  buf[1] = key.id;
  buf.write(claims.routeId, 2, 6, 'hex');
  buf.writeUInt16BE(claims.port, 8);
  buf.writeUInt32BE(claims.expiresAt >>> 0, 14);
  createHmac('sha256', key.secret).update(buf.subarray(0, 18)).digest().copy(buf, 18, 0, 10);
  return buf.toString('base64').replace(/=+$/, '');
}
