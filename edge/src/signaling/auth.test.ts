import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearerToken, createJwtAuthenticator, createNoAuth, mintDevToken } from './auth.js';

const SECRET = 'auth-test-secret-with-at-least-32-characters';
const key = new TextEncoder().encode(SECRET);

describe('jwt authenticator', () => {
  const auth = createJwtAuthenticator({ secret: SECRET });

  it('accepts a dev token and returns its subject', async () => {
    const token = await mintDevToken(SECRET, { subject: 'dev-user', ttlSeconds: 120 });
    const claims = decodeJwt(token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
    expect(await auth.verify(`Bearer ${token}`)).toEqual({ ok: true, subject: 'dev-user' });
    expect(await auth.verify(`bearer ${token}`)).toEqual({ ok: true, subject: 'dev-user' });
  });

  it('returns the parley_agent claim, and refuses a token whose claim is not a string', async () => {
    const token = await mintDevToken(SECRET, { subject: 'u', agent: 'realtime' });
    expect(await auth.verify(`Bearer ${token}`)).toEqual({ ok: true, subject: 'u', agent: 'realtime' });
    const bad = await new SignJWT({ parley_agent: 5 })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1m')
      .sign(key);
    expect(await auth.verify(`Bearer ${bad}`)).toEqual({
      ok: false,
      detail: expect.stringMatching(/parley_agent/),
    });
  });

  it('refuses tokens without exp, since they would never expire', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(key);
    expect(await auth.verify(`Bearer ${token}`)).toEqual({ ok: false, detail: expect.stringMatching(/exp/) });
  });

  it('refuses other algorithms, even with the right key', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setExpirationTime('1m')
      .sign(key);
    expect(await auth.verify(`Bearer ${token}`)).toEqual({
      ok: false,
      detail: 'token algorithm is not allowed',
    });
  });

  it('tolerates a few seconds of clock skew, not more', async () => {
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now - 2)
      .sign(key);
    const longExpired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now - 30)
      .sign(key);
    expect((await auth.verify(`Bearer ${justExpired}`)).ok).toBe(true);
    expect(await auth.verify(`Bearer ${longExpired}`)).toEqual({ ok: false, detail: 'token expired' });
  });

  it('never throws on junk headers', async () => {
    for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearer ....', 'Token abc']) {
      expect((await auth.verify(h)).ok).toBe(false);
    }
  });

  it('refuses short secrets at construction', () => {
    expect(() => createJwtAuthenticator({ secret: 'short' })).toThrow(/32/);
  });
});

describe('bearerToken', () => {
  it('extracts the token from a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('off authenticator', () => {
  it('lets everyone in, anonymously', async () => {
    expect(await createNoAuth().verify(undefined)).toEqual({ ok: true });
  });
});
