import type { Hono } from 'hono';
import { mintDevToken } from '../signaling/auth.js';
import { problemResponse } from '../signaling/problem.js';
import { isLoopbackHost } from './config.js';

export const DEV_TOKEN_PATH = '/dev/token';
const DEFAULT_TTL_SECONDS = 3600;

export interface DevTokenOptions {
  /** The edge's own HS256 secret (PARLEY_AUTH_JWT_SECRET), so the edge accepts what it mints. */
  secret: string;
  issuer?: string;
  audience?: string;
  ttlSeconds?: number;
}

/**
 * `GET /dev/token`: a short-lived signaling JWT for the page, so the local
 * dev stack works in a browser with no copy and paste. Only mounted when
 * PARLEY_DEV_TOKEN_ENDPOINT=1 on a loopback listener. It lives outside /v1
 * so CORS settings for the API never apply to it, and answers only requests
 * whose Host is a loopback name, so a DNS-rebinding page cannot read it.
 */
export function mountDevTokenEndpoint(app: Hono, opts: DevTokenOptions): void {
  const ttlSeconds = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  app.get(DEV_TOKEN_PATH, async (c) => {
    if (!isLoopbackHost(hostnameOf(c.req.header('host')))) {
      return problemResponse(403, { detail: 'the dev token endpoint only answers on a loopback host name' });
    }
    const token = await mintDevToken(opts.secret, {
      subject: 'dev-browser',
      ttlSeconds,
      ...(opts.issuer !== undefined && { issuer: opts.issuer }),
      ...(opts.audience !== undefined && { audience: opts.audience }),
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ token, expiresInSeconds: ttlSeconds });
  });
}

function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return '';
  }
}
