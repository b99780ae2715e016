import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createJwtAuthenticator } from '../signaling/auth.js';
import { DEV_TOKEN_PATH, mountDevTokenEndpoint } from './dev-token.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';

function app(opts: { issuer?: string; audience?: string } = {}) {
  const a = new Hono();
  mountDevTokenEndpoint(a, { secret: SECRET, ttlSeconds: 600, ...opts });
  return a;
}

describe('GET /dev/token', () => {
  it('mints a token the edge itself accepts, not cacheable', async () => {
    const res = await app().request(DEV_TOKEN_PATH, { headers: { Host: '127.0.0.1:8080' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { token: string; expiresInSeconds: number };
    expect(body.expiresInSeconds).toBe(600);
    const verdict = await createJwtAuthenticator({ secret: SECRET }).verify(`Bearer ${body.token}`);
    expect(verdict).toEqual({ ok: true, subject: 'dev-browser' });
  });

  it('carries the configured issuer and audience, so an edge that checks them accepts it', async () => {
    const res = await app({ issuer: 'parley-dev', audience: 'edge' }).request(DEV_TOKEN_PATH, {
      headers: { Host: 'localhost:8080' },
    });
    const { token } = (await res.json()) as { token: string };
    const strict = createJwtAuthenticator({ secret: SECRET, issuer: 'parley-dev', audience: 'edge' });
    expect((await strict.verify(`Bearer ${token}`)).ok).toBe(true);
  });

  it('answers 403 problem+json when the Host is not a loopback name (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example']) {
      const res = await app().request(DEV_TOKEN_PATH, { headers: { Host: host } });
      expect(res.status, host).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.text()).not.toContain('token"');
    }
    const ipv6 = await app().request(DEV_TOKEN_PATH, { headers: { Host: '[::1]:8080' } });
    expect(ipv6.status).toBe(200);
  });
});
