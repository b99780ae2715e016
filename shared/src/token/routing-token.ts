import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Routing token carried in the transceiver's ICE ufrag.
 *
 * The relay reads it from the USERNAME of the first STUN Binding Request of a
 * flow and learns, with no lookup and no network call, which transceiver owns
 * the session. The HMAC stops anyone from steering the relay to an address we
 * did not sign: the relay is never an open proxy.
 *
 * Version 2 carries no port: each transceiver has ONE ICE UDP port, which it
 * announces on NATS, and demultiplexes sessions on it by the full ufrag. What
 * binds a token to one session is therefore the token itself, which is why
 * the nonce is 6 random bytes (the 2 bytes v1 spent on a per-session port
 * joined it): every session's ufrag is unique. A transceiver that mints a
 * ufrag already held by one of its live sessions must mint another.
 *
 * Binary layout (28 bytes, base64 without padding = 38 ice-chars; RFC 8839
 * allows 4..256 ufrag characters from ALPHA / DIGIT / "+" / "/"):
 *
 *   0      version (1) = 2
 *   1      key id (1)
 *   2..7   route id (6): first bytes of SHA-256(transceiver id), resolved
 *          to a private address and port through discovery
 *   8..13  nonce (6, random): makes every session's ufrag unique
 *   14..17 expiry (4, unix seconds)
 *   18..27 HMAC-SHA256(key, bytes 0..17) truncated to 80 bits
 *
 * Version 1 (bytes 8..9 a per-session UDP port, 10..13 a 4-byte nonce) is
 * rejected as 'version': its port means nothing to a one-port transceiver.
 */
export const TOKEN_VERSION = 2;
export const TOKEN_BYTES = 28;
export const TOKEN_CHARS = 38;
export const TOKEN_NONCE_BYTES = 6;
const NONCE_OFFSET = 8;
const EXPIRY_OFFSET = 14;
const SIGNED_BYTES = 18;
const MAC_BYTES = 10;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export interface RoutingClaims {
  /** 12 hex chars: see routeIdOf(). */
  routeId: string;
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

/**
 * Signs a new token with the keyring's first key. `nonce` is for tests and
 * fixtures only: real tokens need fresh random bytes to be unique.
 */
export function encodeToken(
  keyring: TokenKeyring,
  claims: RoutingClaims,
  nonce: Buffer = randomBytes(TOKEN_NONCE_BYTES),
): string {
  if (!/^[0-9a-f]{12}$/.test(claims.routeId)) throw new Error('routeId must be 12 hex chars');
  if (nonce.length !== TOKEN_NONCE_BYTES) throw new Error(`nonce must be ${TOKEN_NONCE_BYTES} bytes`);
  const buf = Buffer.allocUnsafe(TOKEN_BYTES);
  buf[0] = TOKEN_VERSION;
  buf[1] = keyring.signing.id;
  buf.write(claims.routeId, 2, 6, 'hex');
  nonce.copy(buf, NONCE_OFFSET);
  buf.writeUInt32BE(claims.expiresAt >>> 0, EXPIRY_OFFSET);
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
  const expiresAt = buf.readUInt32BE(EXPIRY_OFFSET);
  if (expiresAt <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, keyId: key.id, claims: { routeId: buf.toString('hex', 2, 8), expiresAt } };
}

function mac(secret: Buffer, buf: Buffer): Buffer {
  return createHmac('sha256', secret).update(buf.subarray(0, SIGNED_BYTES)).digest().subarray(0, MAC_BYTES);
}
