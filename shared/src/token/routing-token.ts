import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Routing token carried in the transceiver's ICE ufrag.
 *
 * The relay reads it from the USERNAME of the first STUN Binding Request of a
 * flow and learns, with no lookup and no network call, which transceiver owns
 * the session and on which UDP port. The HMAC stops anyone from steering the
 * relay to an address we did not sign: the relay is never an open proxy.
 *
 * Binary layout (28 bytes, base64 without padding = 38 ice-chars; RFC 8839
 * allows 4..256 ufrag characters from ALPHA / DIGIT / "+" / "/"):
 *
 *   0      version (1)
 *   1      key id (1)
 *   2..7   route id (6): first bytes of SHA-256(transceiver id), resolved
 *          to a private address through discovery
 *   8..9   transceiver UDP port (2, big endian)
 *   10..13 nonce (4): makes every session's ufrag unique
 *   14..17 expiry (4, unix seconds)
 *   18..27 HMAC-SHA256(key, bytes 0..17) truncated to 80 bits
 */
export const TOKEN_VERSION = 1;
export const TOKEN_BYTES = 28;
export const TOKEN_CHARS = 38;
const SIGNED_BYTES = 18;
const MAC_BYTES = 10;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export interface RoutingClaims {
  /** 12 hex chars: see routeIdOf(). */
  routeId: string;
  port: number;
  /** Unix seconds after which relays refuse to build new flows for it. */
  expiresAt: number;
}

export interface TokenKey {
  id: number;
  secret: Buffer;
}

/**
 * Keys in the order they were configured. The first one signs; every one of
 * them verifies, so a rotation is: add the new key second everywhere, then
 * move it first, then drop the old one.
 */
export interface TokenKeyring {
  signing: TokenKey;
  byId: ReadonlyMap<number, TokenKey>;
}

export type VerifyResult =
  | { ok: true; claims: RoutingClaims; keyId: number }
  | { ok: false; reason: TokenRejection };

export type TokenRejection = 'malformed' | 'version' | 'unknown_key' | 'bad_signature' | 'expired';

export function makeKeyring(keys: readonly TokenKey[]): TokenKeyring {
  const first = keys[0];
  if (!first) throw new Error('token keyring needs at least one key');
  const byId = new Map<number, TokenKey>();
  for (const k of keys) {
    if (!Number.isInteger(k.id) || k.id < 0 || k.id > 255)
      throw new Error(`token key id ${k.id} is not 0..255`);
    if (k.secret.length < 32) throw new Error(`token key ${k.id} is shorter than 32 bytes`);
    if (byId.has(k.id)) throw new Error(`token key id ${k.id} appears twice`);
    byId.set(k.id, k);
  }
  return { signing: first, byId };
}

/** Parses `kid:base64secret[,kid:base64secret]` as found in PARLEY_TOKEN_KEYS. */
export function parseKeyring(spec: string): TokenKeyring {
  const keys = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^(\d{1,3}):([A-Za-z0-9+/=_-]+)$/.exec(part);
      if (!m) throw new Error('token keys must look like "kid:base64secret[,kid:base64secret]"');
      return { id: Number(m[1]), secret: Buffer.from(m[2] as string, 'base64') };
    });
  return makeKeyring(keys);
}

/** Route ids are short so the token fits comfortably in a ufrag. */
export function routeIdOf(transceiverId: string): string {
  return createHash('sha256').update(transceiverId).digest('hex').slice(0, 12);
}

export function encodeToken(
  keyring: TokenKeyring,
  claims: RoutingClaims,
  nonce: Buffer = randomBytes(4),
): string {
  const buf = Buffer.allocUnsafe(TOKEN_BYTES);
  buf[0] = TOKEN_VERSION;
  buf[1] = keyring.signing.id;
  if (!/^[0-9a-f]{12}$/.test(claims.routeId)) throw new Error('routeId must be 12 hex chars');
  buf.write(claims.routeId, 2, 6, 'hex');
  buf.writeUInt16BE(claims.port, 8);
  nonce.copy(buf, 10, 0, 4);
  buf.writeUInt32BE(claims.expiresAt >>> 0, 14);
  mac(keyring.signing.secret, buf).copy(buf, SIGNED_BYTES);
  return buf.toString('base64').replace(/=+$/, '');
}

/**
 * Verifies a token. Pure and allocation-light: it runs once per new flow on
 * the relay, which must survive floods of forged first packets.
 */
export function verifyToken(keyring: TokenKeyring, token: string, nowSeconds: number): VerifyResult {
  if (token.length !== TOKEN_CHARS || !/^[A-Za-z0-9+/]+$/.test(token))
    return { ok: false, reason: 'malformed' };
  const buf = Buffer.from(token, 'base64');
  if (buf.length !== TOKEN_BYTES) return { ok: false, reason: 'malformed' };
  // The last character carries 4 unused bits; only the canonical spelling is
  // accepted, so one token has exactly one ufrag.
  if (BASE64_ALPHABET.indexOf(token.charAt(TOKEN_CHARS - 1)) & 0x0f)
    return { ok: false, reason: 'malformed' };
  if (buf[0] !== TOKEN_VERSION) return { ok: false, reason: 'version' };
  const key = keyring.byId.get(buf[1] as number);
  if (!key) return { ok: false, reason: 'unknown_key' };
  const expected = mac(key.secret, buf);
  if (!timingSafeEqual(expected, buf.subarray(SIGNED_BYTES))) return { ok: false, reason: 'bad_signature' };
  const expiresAt = buf.readUInt32BE(14);
  if (expiresAt <= nowSeconds) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    keyId: key.id,
    claims: { routeId: buf.toString('hex', 2, 8), port: buf.readUInt16BE(8), expiresAt },
  };
}

function mac(secret: Buffer, buf: Buffer): Buffer {
  return createHmac('sha256', secret).update(buf.subarray(0, SIGNED_BYTES)).digest().subarray(0, MAC_BYTES);
}
