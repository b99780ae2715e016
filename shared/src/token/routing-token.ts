import {
  createHash,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { isIP } from 'node:net';

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
 * Version 3 is version 2 plus the transceiver's own address, signed, so a
 * relay that has no discovery (it started, or restarted, while NATS was
 * down) can still forward to the address the transceiver signed:
 *
 *   0..17  as version 2 (version byte = 3)
 *   18     address family (4 or 6)
 *   19..20 the transceiver's one ICE UDP port
 *   21..   the address (4 or 16 bytes)
 *   then   HMAC-SHA256(key, every byte before it) truncated to 80 bits
 *
 * 35 bytes (47 chars) for IPv4, 47 bytes (63 chars) for IPv6. Signing the
 * address keeps the relay from being an open proxy without discovery: only
 * a holder of the key can name a target.
 *
 * Version 1 (bytes 8..9 a per-session UDP port, 10..13 a 4-byte nonce) is
 * rejected as 'version': its port means nothing to a one-port transceiver.
 */
export const TOKEN_VERSION = 2;
export const TOKEN_VERSION_WITH_TARGET = 3;
export const TOKEN_BYTES = 28;
export const TOKEN_CHARS = 38;
/** Version 3 token lengths in characters: IPv4 and IPv6 targets. */
export const TOKEN_CHARS_TARGET_V4 = 47;
export const TOKEN_CHARS_TARGET_V6 = 63;
/** Every length a valid token can have, for cheap pre-checks before the HMAC. */
export function isTokenLength(chars: number): boolean {
  return chars === TOKEN_CHARS || chars === TOKEN_CHARS_TARGET_V4 || chars === TOKEN_CHARS_TARGET_V6;
}
export const TOKEN_NONCE_BYTES = 6;
const NONCE_OFFSET = 8;
const EXPIRY_OFFSET = 14;
const SIGNED_BYTES = 18;
const MAC_BYTES = 10;
const TARGET_OFFSET = 18;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export interface RoutingClaims {
  /** 12 hex chars: see routeIdOf(). */
  routeId: string;
  /** Unix seconds after which relays refuse to build new flows for it. */
  expiresAt: number;
  /**
   * Version 3 only: the transceiver's private address and one ICE port,
   * signed, so a relay without discovery can still forward (IP literal).
   */
  target?: { address: string; port: number };
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
  const target = claims.target ? encodeTarget(claims.target) : undefined;
  const signed = SIGNED_BYTES + (target?.length ?? 0);
  const buf = Buffer.allocUnsafe(signed + MAC_BYTES);
  buf[0] = target ? TOKEN_VERSION_WITH_TARGET : TOKEN_VERSION;
  buf[1] = keyring.signing.id;
  buf.write(claims.routeId, 2, 6, 'hex');
  nonce.copy(buf, NONCE_OFFSET);
  buf.writeUInt32BE(claims.expiresAt >>> 0, EXPIRY_OFFSET);
  target?.copy(buf, TARGET_OFFSET);
  mac(keyring.signing.secret, buf, signed).copy(buf, signed);
  return buf.toString('base64').replace(/=+$/, '');
}

/** family (1) + port (2) + address (4 or 16). */
function encodeTarget(target: { address: string; port: number }): Buffer {
  const family = isIP(target.address);
  if (family === 0) throw new Error('token target address must be an IP literal');
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535)
    throw new Error('token target port must be 1..65535');
  const addr = family === 4 ? ipv4Bytes(target.address) : ipv6Bytes(target.address);
  const out = Buffer.allocUnsafe(3 + addr.length);
  out[0] = family;
  out.writeUInt16BE(target.port, 1);
  addr.copy(out, 3);
  return out;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** RFC 4291 text to 16 bytes, after the URL parser's canonical form (RFC 5952: one "::", hex groups). */
function ipv6Bytes(address: string): Buffer {
  const full = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head = '', tail] = full.split('::') as [string, string | undefined];
  const groups = (part: string): number[] => {
    if (!part) return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = ipv4Bytes(g);
        out.push(((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number));
      } else out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const buf = Buffer.alloc(16);
  for (let i = 0; i < all.length; i++) buf.writeUInt16BE(all[i] as number, i * 2);
  return buf;
}

function decodeTarget(buf: Buffer): { address: string; port: number } | undefined {
  const family = buf[TARGET_OFFSET];
  const port = buf.readUInt16BE(TARGET_OFFSET + 1);
  const at = TARGET_OFFSET + 3;
  if (port === 0) return undefined;
  if (family === 4 && buf.length === at + 4 + MAC_BYTES) {
    return { address: `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`, port };
  }
  if (family === 6 && buf.length === at + 16 + MAC_BYTES) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(at + i * 2).toString(16));
    return { address: new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1), port };
  }
  return undefined;
}

/**
 * Verifies a token. Pure and allocation-light: it runs once per new flow on
 * the relay, which must survive floods of forged first packets.
 */
export function verifyToken(keyring: TokenKeyring, token: string, nowSeconds: number): VerifyResult {
  if (!isTokenLength(token.length) || !/^[A-Za-z0-9+/]+$/.test(token))
    return { ok: false, reason: 'malformed' };
  const buf = Buffer.from(token, 'base64');
  const expectedBytes = Math.floor((token.length * 6) / 8);
  if (buf.length !== expectedBytes) return { ok: false, reason: 'malformed' };
  // The last character may carry unused bits (4 when bytes % 3 is 1, 2 when
  // it is 2); only the canonical spelling, with them zero, is accepted, so
  // one token has exactly one ufrag.
  const unusedMask = expectedBytes % 3 === 1 ? 0x0f : expectedBytes % 3 === 2 ? 0x03 : 0;
  if (BASE64_ALPHABET.indexOf(token.charAt(token.length - 1)) & unusedMask)
    return { ok: false, reason: 'malformed' };
  const version = buf[0];
  if (version === TOKEN_VERSION) {
    if (buf.length !== TOKEN_BYTES) return { ok: false, reason: 'malformed' };
  } else if (version !== TOKEN_VERSION_WITH_TARGET || buf.length === TOKEN_BYTES) {
    return { ok: false, reason: 'version' };
  }
  const key = keyring.byId.get(buf[1] as number);
  if (!key) return { ok: false, reason: 'unknown_key' };
  const signed = buf.length - MAC_BYTES;
  const expected = mac(key.secret, buf, signed);
  if (!timingSafeEqual(expected, buf.subarray(signed))) return { ok: false, reason: 'bad_signature' };
  const expiresAt = buf.readUInt32BE(EXPIRY_OFFSET);
  if (expiresAt <= nowSeconds) return { ok: false, reason: 'expired' };
  const claims: RoutingClaims = { routeId: buf.toString('hex', 2, 8), expiresAt };
  if (version === TOKEN_VERSION_WITH_TARGET) {
    // Signed, so a bad layout here is our own bug, not an attacker's: still refuse it.
    const target = decodeTarget(buf);
    if (!target) return { ok: false, reason: 'malformed' };
    claims.target = target;
  }
  return { ok: true, keyId: key.id, claims };
}

/**
 * The part of a token that names one session: route id and nonce (bytes
 * 2..13), as 24 hex chars. Revocations and per-token flow limits key on it
 * (the same session's token always has the same id). Call only on a token
 * that verified.
 */
export function tokenId(token: string): string {
  return Buffer.from(token.slice(0, 20), 'base64').toString('hex', 2, 14);
}

/**
 * Each secret as a KeyObject, made once: on Node 24 createHmac with a Buffer
 * key builds a KeyObject on every call (~13-20 us a MAC here), with a ready
 * one ~2 us, and the relay verifies a token for every first packet.
 */
const macKeys = new WeakMap<Buffer, KeyObject>();

function mac(secret: Buffer, buf: Buffer, signedBytes: number): Buffer {
  let key = macKeys.get(secret);
  if (key === undefined) {
    key = createSecretKey(secret);
    macKeys.set(secret, key);
  }
  return createHmac('sha256', key).update(buf.subarray(0, signedBytes)).digest().subarray(0, MAC_BYTES);
}
