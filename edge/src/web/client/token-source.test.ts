import { describe, expect, it } from 'vitest';
import { type KeyValueStore, TokenSource, takeTokenFromUrl } from './token-source.js';

class MemoryStore implements KeyValueStore {
  readonly data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

/** An edge's /dev/token as the page sees it: counts calls, answers with a fixed status. */
function devEndpoint(status: number, body: unknown = { token: 'dev-jwt', expiresInSeconds: 3600 }) {
  const calls: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL) => {
    calls.push(String(input));
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
  return { calls, fetchFn };
}

describe('takeTokenFromUrl', () => {
  it('takes ?token= out of the URL and keeps every other parameter', () => {
    expect(takeTokenFromUrl('http://127.0.0.1:8080/?agent=echo&token=abc.def.ghi#x')).toEqual({
      token: 'abc.def.ghi',
      cleanedUrl: 'http://127.0.0.1:8080/?agent=echo#x',
    });
  });

  it('no token, or an empty one: nothing taken', () => {
    expect(takeTokenFromUrl('http://h/')).toEqual({ cleanedUrl: 'http://h/' });
    expect(takeTokenFromUrl('http://h/?token=').token).toBeUndefined();
  });
});

describe('TokenSource', () => {
  it("prefers the person's own token and never asks the edge then", async () => {
    const edge = devEndpoint(200);
    const store = new MemoryStore();
    const tokens = new TokenSource({ fetch: edge.fetchFn, edgeUrl: 'http://127.0.0.1:8080', storage: store });
    tokens.setProvided('  mine  ');
    expect(await tokens.get()).toEqual({ token: 'mine', origin: 'provided' });
    expect(edge.calls).toEqual([]);
    tokens.setProvided('');
    expect(store.data.size).toBe(0);
  });

  it('falls back to the dev token endpoint, caches it until shortly before expiry, and refetches after invalidate', async () => {
    const edge = devEndpoint(200, { token: 'dev-jwt', expiresInSeconds: 120 });
    let now = 1_000_000;
    const tokens = new TokenSource({ fetch: edge.fetchFn, edgeUrl: 'http://127.0.0.1:8080', now: () => now });
    expect(await tokens.get()).toEqual({ token: 'dev-jwt', origin: 'dev' });
    expect(edge.calls).toEqual(['http://127.0.0.1:8080/dev/token']);
    now += 30_000;
    await tokens.get();
    expect(edge.calls).toHaveLength(1);
    // Within a minute of expiry: ask for a fresh one.
    now += 40_000;
    await tokens.get();
    expect(edge.calls).toHaveLength(2);
    tokens.invalidate();
    await tokens.get();
    expect(edge.calls).toHaveLength(3);
  });

  it('no dev endpoint (404), a malformed answer, or no edge at all: no token', async () => {
    for (const edge of [devEndpoint(404), devEndpoint(200, { nope: true })]) {
      const tokens = new TokenSource({ fetch: edge.fetchFn, edgeUrl: 'http://127.0.0.1:8080' });
      expect(await tokens.get()).toEqual({ origin: 'none' });
    }
    const unreachable = new TokenSource({ fetch, edgeUrl: 'http://127.0.0.1:1' });
    expect(await unreachable.get()).toEqual({ origin: 'none' });
  });
});
