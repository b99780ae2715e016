import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@parley/shared/log.js';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignalingApp } from '../signaling/app.js';
import { createNoAuth } from '../signaling/auth.js';
import type { SessionBroker } from '../signaling/session-broker.js';
import { buildWebClient, fillTemplate } from './build-client.js';
import { mountWebClient } from './mount.js';

// No request in this file reaches the broker: only the page's routes are under test.
const unusedBroker = {} as SessionBroker;

describe('web client build and static routes', () => {
  let dir: string;
  let files: string[];
  let app: Hono;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-web-'));
    ({ files } = await buildWebClient({ outDir: dir }));
    app = createSignalingApp({
      auth: createNoAuth(),
      broker: unusedBroker,
      log: createLogger('test', 'silent'),
    }) as unknown as Hono;
    mountWebClient(app, { dir });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a page, a hashed script and stylesheet with source maps, and a hashed icon', () => {
    expect(files).toContain('index.html');
    for (const re of [
      /^assets\/main-\w+\.js$/,
      /^assets\/main-\w+\.css$/,
      /^assets\/main-\w+\.js\.map$/,
      /^assets\/favicon-[0-9a-f]{8}\.svg$/,
    ]) {
      expect(
        files.some((f) => re.test(f)),
        String(re),
      ).toBe(true);
    }
  });

  it('GET / is the page naming the built assets, revalidated on every load, with a strict CSP', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const d of [
      "default-src 'none'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(d);
    }
    expect(res.headers.get('permissions-policy')).toContain('microphone=(self)');
    expect(res.headers.get('strict-transport-security')).toBeNull();
    const html = await res.text();
    for (const f of files.filter((f) => /\.(js|css|svg)$/.test(f))) expect(html).toContain(`/${f}`);
    expect(html).not.toMatch(/%[A-Z_]+%/);
  });

  it('assets are served with their type and cached for good; HEAD works', async () => {
    const js = files.find((f) => f.endsWith('.js')) as string;
    const res = await app.request(`/${js}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await res.text()).length).toBeGreaterThan(1000);
    const head = await app.request(`/${js}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('unknown or escaping paths fall through to the API 404 problem, and the API still answers', async () => {
    for (const path of ['/assets/nope.js', '/assets/..%2findex.html', '/favicon.ico']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
      expect(res.headers.get('cache-control'), path).toBeNull();
    }
    expect((await app.request('/livez')).status).toBe(200);
    expect((await app.request('/index.html')).headers.get('location')).toBe('/');
  });

  it('refuses to mount a page that was never built, saying how to fix it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'parley-web-empty-'));
    try {
      expect(() => mountWebClient(app, { dir: empty })).toThrow(
        /web client not built.*npm run build.*PARLEY_WEB_CLIENT=off/,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('fillTemplate', () => {
  it('fills placeholders and fails on any left over', () => {
    expect(fillTemplate('<a href="%A%">%B%</a>', { A: 'x', B: 'y' })).toBe('<a href="x">y</a>');
    expect(() => fillTemplate('%A% %MISSING%', { A: 'x' })).toThrow('%MISSING%');
  });
});
