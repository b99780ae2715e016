import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  encodeToken,
  makeKeyring,
  parseKeyring,
  type RoutingClaims,
  routeIdOf,
  TOKEN_BYTES,
  TOKEN_CHARS,
  TOKEN_NONCE_BYTES,
  TOKEN_VERSION,
  type TokenKey,
  tokenId,
  verifyToken,
} from './routing-token.js';

const NOW = 1_800_000_000;
const key = (id: number, fill?: number): TokenKey => ({
  id,
  secret: fill === undefined ? randomBytes(32) : Buffer.alloc(32, fill),
});
const claims: RoutingClaims = { routeId: routeIdOf('transceiver-a'), expiresAt: NOW + 60 };
/** RFC 8839: ice-char = ALPHA / DIGIT / "+" / "/", ufrag 4..256 of them. */
const ICE_UFRAG = /^[A-Za-z0-9+/]{4,256}$/;

function toBytes(token: string): Buffer {
  return Buffer.from(token, 'base64');
}
function toToken(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

describe('routing token round trip', () => {
  const keyring = makeKeyring([key(3)]);

  it('verifies what it encodes, with the signing key id', () => {
    const token = encodeToken(keyring, claims);
    expect(token).toHaveLength(TOKEN_CHARS);
    expect(toBytes(token)).toHaveLength(TOKEN_BYTES);
    expect(verifyToken(keyring, token, NOW)).toEqual({ ok: true, keyId: 3, claims });
  });

  it('carries no port: version 2 claims are the route id and the expiry only', () => {
    const v = verifyToken(keyring, encodeToken(keyring, claims), NOW);
    expect(v.ok && Object.keys(v.claims).sort()).toEqual(['expiresAt', 'routeId']);
    expect(toBytes(encodeToken(keyring, claims))[0]).toBe(TOKEN_VERSION);
    expect(TOKEN_VERSION).toBe(2);
  });

  it('carries route id and expiry edge values intact', () => {
    for (const c of [
      { ...claims, expiresAt: NOW + 1 },
      { ...claims, routeId: '000000000000' },
      { ...claims, routeId: 'ffffffffffff', expiresAt: 0xffffffff },
    ]) {
      const v = verifyToken(keyring, encodeToken(keyring, c), NOW);
      expect(v).toEqual({ ok: true, keyId: 3, claims: c });
    }
  });

  it('makes every token unique through its random nonce, and deterministic with a fixed one', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => encodeToken(keyring, claims)));
    expect(tokens.size).toBe(200);
    const nonce = Buffer.from([9, 9, 9, 9, 9, 9]);
    expect(encodeToken(keyring, claims, nonce)).toBe(encodeToken(keyring, claims, nonce));
  });

  it('puts all 6 nonce bytes in the token: tokens differing only in any nonce byte differ', () => {
    const base = Buffer.alloc(TOKEN_NONCE_BYTES);
    const seen = new Set([encodeToken(keyring, claims, base)]);
    for (let i = 0; i < TOKEN_NONCE_BYTES; i++) {
      const nonce = Buffer.from(base);
      nonce[i] = 1;
      const token = encodeToken(keyring, claims, nonce);
      expect(toBytes(token).subarray(8, 14).equals(nonce), `nonce byte ${i}`).toBe(true);
      seen.add(token);
    }
    expect(seen.size).toBe(TOKEN_NONCE_BYTES + 1);
  });

  it('refuses a nonce of the wrong size', () => {
    expect(() => encodeToken(keyring, claims, Buffer.alloc(4))).toThrow(/nonce/);
    expect(() => encodeToken(keyring, claims, Buffer.alloc(7))).toThrow(/nonce/);
  });

  it('refuses to encode a route id that is not 12 hex chars', () => {
    expect(() => encodeToken(keyring, { ...claims, routeId: 'xyz' })).toThrow(/routeId/);
    expect(() => encodeToken(keyring, { ...claims, routeId: 'ABCDEFABCDEF' })).toThrow(/routeId/);
  });
});

/**
 * Known answers, computed once and pinned: any change to the layout, the MAC
 * input or the base64 spelling shows up here, not first in production where
 * relays and transceivers of two versions must agree.
 */
describe('version 2 test vectors', () => {
  const vectorKeyring = makeKeyring([{ id: 7, secret: Buffer.alloc(32, 0x11) }]);
  const vectorClaims: RoutingClaims = { routeId: '0123456789ab', expiresAt: 2_000_000_000 };
  const nonce = Buffer.from('a1b2c3d4e5f6', 'hex');
  const TOKEN = 'AgcBI0VniauhssPU5fZ3NZQA8H9oq2YpjHLNpQ';

  it('encodes the pinned token byte for byte', () => {
    const token = encodeToken(vectorKeyring, vectorClaims, nonce);
    expect(token).toBe(TOKEN);
    const bytes = toBytes(token);
    expect(bytes.subarray(0, 18).toString('hex')).toBe('02070123456789aba1b2c3d4e5f677359400');
    const mac = createHmac('sha256', Buffer.alloc(32, 0x11)).update(bytes.subarray(0, 18)).digest();
    expect(bytes.subarray(18).equals(mac.subarray(0, 10))).toBe(true);
  });

  it('verifies the pinned token', () => {
    expect(verifyToken(vectorKeyring, TOKEN, 1_999_999_999)).toEqual({
      ok: true,
      keyId: 7,
      claims: vectorClaims,
    });
    expect(verifyToken(vectorKeyring, TOKEN, 2_000_000_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a version 1 token as version, even when correctly signed with a current key', () => {
    // v1 layout: version 1, key id, route id, port 20000, 4-byte nonce, expiry, MAC over bytes 0..17.
    const v1 = Buffer.alloc(TOKEN_BYTES);
    Buffer.from('01070123456789ab4e20a1b2c3d477359400', 'hex').copy(v1);
    createHmac('sha256', Buffer.alloc(32, 0x11)).update(v1.subarray(0, 18)).digest().copy(v1, 18, 0, 10);
    const token = toToken(v1);
    expect(token).toMatch(ICE_UFRAG);
    expect(token).toHaveLength(TOKEN_CHARS);
    expect(verifyToken(vectorKeyring, token, NOW)).toEqual({ ok: false, reason: 'version' });
  });
});

describe('ufrag validity', () => {
  it('every token is a valid ICE ufrag: only ALPHA/DIGIT/+/ and 4..256 chars, no padding', () => {
    const keyring = makeKeyring([key(200)]);
    for (let i = 0; i < 2_000; i++) {
      const token = encodeToken(keyring, { routeId: randomBytes(6).toString('hex'), expiresAt: NOW + i });
      expect(token).toMatch(ICE_UFRAG);
    }
  });
});

describe('forgery', () => {
  const keyring = makeKeyring([key(5)]);
  const token = encodeToken(keyring, claims);

  it('rejects a token with any byte flipped, for the reason that byte controls', () => {
    const bytes = toBytes(token);
    for (let i = 0; i < TOKEN_BYTES; i++) {
      const forged = Buffer.from(bytes);
      forged[i] = (forged[i] as number) ^ 0xff;
      const v = verifyToken(keyring, toToken(forged), NOW);
      const expected = i === 0 ? 'version' : i === 1 ? 'unknown_key' : 'bad_signature';
      expect(v, `byte ${i}`).toEqual({ ok: false, reason: expected });
    }
  });

  it('rejects a token with any single bit flipped', () => {
    const bytes = toBytes(token);
    for (let bit = 0; bit < TOKEN_BYTES * 8; bit++) {
      const forged = Buffer.from(bytes);
      forged[bit >> 3] = (forged[bit >> 3] as number) ^ (0x80 >> (bit & 7));
      expect(verifyToken(keyring, toToken(forged), NOW).ok, `bit ${bit}`).toBe(false);
    }
  });

  it('rejects every token with any single character changed, including the padding bits of the last one', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (let i = 0; i < TOKEN_CHARS; i++) {
      for (const c of alphabet) {
        if (c === token[i]) continue;
        const forged = token.slice(0, i) + c + token.slice(i + 1);
        expect(verifyToken(keyring, forged, NOW).ok, `char ${i} -> ${c}`).toBe(false);
      }
    }
  });

  it('rejects a token signed with a different secret under the same key id', () => {
    const other = makeKeyring([key(5)]);
    expect(verifyToken(other, token, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a token whose key id the verifier does not know', () => {
    const other = makeKeyring([key(6)]);
    expect(verifyToken(other, token, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('rejects another version before looking at the key or signature', () => {
    for (const version of [0, 1, 3, 255]) {
      const bytes = toBytes(token);
      bytes[0] = version;
      expect(verifyToken(keyring, toToken(bytes), NOW), `version ${version}`).toEqual({
        ok: false,
        reason: 'version',
      });
    }
  });
});

describe('expiry', () => {
  const keyring = makeKeyring([key(1)]);
  const token = encodeToken(keyring, claims);

  it('is valid strictly before expiresAt and expired from expiresAt on', () => {
    expect(verifyToken(keyring, token, claims.expiresAt - 1).ok).toBe(true);
    expect(verifyToken(keyring, token, claims.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(keyring, token, claims.expiresAt + 3600)).toEqual({ ok: false, reason: 'expired' });
  });

  it('checks the signature before expiry, so a forged expiry is a bad signature', () => {
    const bytes = toBytes(token);
    bytes.writeUInt32BE(claims.expiresAt + 86_400, 14);
    expect(verifyToken(keyring, toToken(bytes), claims.expiresAt + 10)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
});

describe('key rotation', () => {
  const oldKey = key(1);
  const newKey = key(2);

  it('old tokens verify while the new key signs, and stop verifying once the old key is dropped', () => {
    const before = makeKeyring([oldKey]);
    const staged = makeKeyring([oldKey, newKey]); // step 1: everyone learns the new key
    const switched = makeKeyring([newKey, oldKey]); // step 2: the new key signs
    const after = makeKeyring([newKey]); // step 3: the old key is gone

    const oldToken = encodeToken(before, claims);
    const stagedToken = encodeToken(staged, claims);
    const newToken = encodeToken(switched, claims);

    expect(verifyToken(staged, oldToken, NOW)).toMatchObject({ ok: true, keyId: 1 });
    expect(verifyToken(switched, oldToken, NOW)).toMatchObject({ ok: true, keyId: 1 });
    expect(verifyToken(switched, stagedToken, NOW)).toMatchObject({ ok: true, keyId: 1 });
    expect(verifyToken(switched, newToken, NOW)).toMatchObject({ ok: true, keyId: 2 });
    expect(verifyToken(staged, newToken, NOW)).toMatchObject({ ok: true, keyId: 2 });
    // A relay still on the old keyring cannot route tokens from the new key.
    expect(verifyToken(before, newToken, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifyToken(after, oldToken, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifyToken(after, newToken, NOW)).toMatchObject({ ok: true, keyId: 2 });
  });
});

describe('malformed strings', () => {
  const keyring = makeKeyring([key(1)]);
  const token = encodeToken(keyring, claims);

  it('rejects wrong lengths', () => {
    for (const s of ['', 'abcd', token.slice(0, -1), `${token}A`, `${token}==`, token.repeat(2)]) {
      expect(verifyToken(keyring, s, NOW), JSON.stringify(s)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('rejects non-ice characters in an otherwise right-length string', () => {
    for (const bad of ['-', '_', '=', ' ', '.', ':', 'é', '\0', '\n']) {
      const s = bad + token.slice(1);
      expect(verifyToken(keyring, s, NOW), JSON.stringify(bad)).toEqual({ ok: false, reason: 'malformed' });
    }
    // base64url spelling of a real token: same bytes, but "-" and "_" are not ice-chars.
    const urlSafe = toBytes(token).toString('base64url');
    if (urlSafe !== token)
      expect(verifyToken(keyring, urlSafe, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyToken(keyring, `${'A'.repeat(37)}-`, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('parseKeyring and makeKeyring', () => {
  const b64 = (fill: number, bytes = 32) => Buffer.alloc(bytes, fill).toString('base64');

  it('parses one or more keys, first one signing, whitespace and empty parts tolerated', () => {
    const kr = parseKeyring(` 2:${b64(2)} , 1:${b64(1)},`);
    expect(kr.signing.id).toBe(2);
    expect(kr.signing.secret.equals(Buffer.alloc(32, 2))).toBe(true);
    expect([...kr.byId.keys()]).toEqual([2, 1]);
    expect(kr.byId.get(1)?.secret.equals(Buffer.alloc(32, 1))).toBe(true);
  });

  it('accepts a base64url secret', () => {
    const secret = Buffer.alloc(32, 0xfb);
    const kr = parseKeyring(`9:${secret.toString('base64url')}`);
    expect(kr.signing.secret.equals(secret)).toBe(true);
  });

  it('signs with a parsed keyring and verifies with another parse of the same spec', () => {
    const spec = `4:${randomBytes(32).toString('base64')}`;
    const token = encodeToken(parseKeyring(spec), claims);
    expect(verifyToken(parseKeyring(spec), token, NOW).ok).toBe(true);
  });

  it('rejects malformed specs with a readable message', () => {
    const cases: [string, RegExp][] = [
      ['', /at least one key/],
      [' , ', /at least one key/],
      ['nocolon', /kid:base64secret/],
      [`:${b64(1)}`, /kid:base64secret/],
      ['1:', /kid:base64secret/],
      [`x:${b64(1)}`, /kid:base64secret/],
      [`1234:${b64(1)}`, /kid:base64secret/],
      [`1:${b64(1)} extra`, /kid:base64secret/],
      [`256:${b64(1)}`, /not 0\.\.255/],
      [`1:${b64(1, 31)}`, /shorter than 32 bytes/],
      [`1:${b64(1)},1:${b64(2)}`, /appears twice/],
    ];
    for (const [spec, msg] of cases) expect(() => parseKeyring(spec), JSON.stringify(spec)).toThrow(msg);
  });

  it('makeKeyring rejects empty lists, bad ids and short secrets', () => {
    expect(() => makeKeyring([])).toThrow(/at least one key/);
    expect(() => makeKeyring([{ id: -1, secret: Buffer.alloc(32) }])).toThrow(/0\.\.255/);
    expect(() => makeKeyring([{ id: 1.5, secret: Buffer.alloc(32) }])).toThrow(/0\.\.255/);
    expect(() => makeKeyring([{ id: 1, secret: Buffer.alloc(16) }])).toThrow(/32 bytes/);
  });
});

describe('routeIdOf', () => {
  it('is 12 lowercase hex chars, stable, and differs between ids', () => {
    expect(routeIdOf('transceiver-a')).toMatch(/^[0-9a-f]{12}$/);
    expect(routeIdOf('transceiver-a')).toBe(routeIdOf('transceiver-a'));
    expect(routeIdOf('transceiver-a')).not.toBe(routeIdOf('transceiver-b'));
  });
});

describe('version 3: the transceiver address signed into the token', () => {
  const keyring = makeKeyring([key(4)]);

  it('round-trips an IPv4 and an IPv6 target, at 47 and 63 ice-chars', () => {
    for (const [target, chars, canonical] of [
      [{ address: '10.1.2.3', port: 20000 }, 47, '10.1.2.3'],
      [{ address: 'fd00::a:1', port: 1 }, 63, 'fd00::a:1'],
      [{ address: 'FD00:0:0:0:0:0:0:1', port: 9 }, 63, 'fd00::1'],
      [{ address: '::ffff:10.0.0.1', port: 65535 }, 63, '::ffff:a00:1'],
    ] as const) {
      const token = encodeToken(keyring, { ...claims, target });
      expect(token).toHaveLength(chars);
      expect(token).toMatch(ICE_UFRAG);
      expect(verifyToken(keyring, token, NOW)).toEqual({
        ok: true,
        keyId: 4,
        claims: { ...claims, target: { address: canonical, port: target.port } },
      });
    }
  });

  it('refuses a token whose signed address or port was changed', () => {
    const token = encodeToken(keyring, { ...claims, target: { address: '10.1.2.3', port: 20000 } });
    for (const offset of [18, 19, 20, 21, 24]) {
      const b = toBytes(token);
      b[offset] = (b[offset] as number) ^ 1;
      const v = verifyToken(keyring, toToken(b), NOW);
      expect(v.ok).toBe(false);
    }
  });

  it('refuses non-canonical spellings of the last character', () => {
    const token = encodeToken(keyring, { ...claims, target: { address: '10.1.2.3', port: 20000 } });
    // 35 bytes: the last char carries 2 unused bits.
    const last = token.charAt(token.length - 1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const bumped = alphabet.charAt(alphabet.indexOf(last) + 1);
    expect(verifyToken(keyring, token.slice(0, -1) + bumped, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('tokenId is the same for one session token and differs between sessions', () => {
    const nonce = Buffer.from('0102030405a6', 'hex');
    const a = encodeToken(keyring, claims, nonce);
    const b = encodeToken(keyring, { ...claims, target: { address: '10.0.0.1', port: 5 } }, nonce);
    expect(tokenId(a)).toBe(`${claims.routeId}0102030405a6`);
    expect(tokenId(b)).toBe(tokenId(a));
    expect(tokenId(encodeToken(keyring, claims))).not.toBe(tokenId(a));
  });

  it('rejects a bad target at encode time', () => {
    expect(() => encodeToken(keyring, { ...claims, target: { address: 'host', port: 1 } })).toThrow();
    expect(() => encodeToken(keyring, { ...claims, target: { address: '10.0.0.1', port: 0 } })).toThrow();
  });
});
