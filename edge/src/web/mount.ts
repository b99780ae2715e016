import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono, MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { DEFAULT_PUBLIC_DIR } from './paths.js';

export interface WebClientOptions {
  /** The built page (index.html + assets/); default: the edge's dist/web/public. */
  dir?: string;
}

export const ASSETS_PATH = '/assets';

/**
 * Serves the browser voice client: `GET /` is the page, `/assets/*` its
 * content-hashed script, stylesheet and icon. The page talks only to this
 * origin (POST/DELETE /v1/sessions, GET /dev/token), which the CSP pins.
 */
export function mountWebClient(app: Hono, opts: WebClientOptions = {}): void {
  const dir = opts.dir ?? DEFAULT_PUBLIC_DIR;
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(
      `web client not built: ${join(dir, 'index.html')} is missing (run "npm run build", or set PARLEY_WEB_CLIENT=off)`,
    );
  }
  const headers = pageSecurityHeaders();

  // Revalidate the page every time so a new build's asset names are picked up.
  app.get('/', headers, cacheControl('no-cache'), serveStatic({ root: dir, path: 'index.html' }));
  app.get('/index.html', (c) => c.redirect('/', 301));
  // Hashed names change with content, so browsers may keep them forever.
  app.get(
    `${ASSETS_PATH}/*`,
    headers,
    cacheControl('public, max-age=31536000, immutable'),
    serveStatic({ root: dir }),
  );
}

/** Only on files actually served: a 404 falling through must not be cached for a year. */
function cacheControl(value: string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.ok) c.header('Cache-Control', value);
  };
}

function pageSecurityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      mediaSrc: ["'self'", 'blob:'],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
    permissionsPolicy: { microphone: ['self'], camera: [], geolocation: [] },
    // The page may carry ?token=: never send the URL to anyone else.
    referrerPolicy: 'no-referrer',
    // TLS is terminated in front of the edge; HSTS for the whole host is its call, not ours.
    strictTransportSecurity: false,
  });
}
