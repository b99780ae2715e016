/** Where the page's signaling token came from, shown next to the Token field. */
export type TokenOrigin = 'provided' | 'dev' | 'none';

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface TokenSourceDeps {
  fetch: typeof fetch;
  edgeUrl: string;
  /** sessionStorage in the page: the token lives as long as the tab. */
  storage?: KeyValueStore;
  /** Wall clock in ms, for the dev token's expiry. */
  now?: () => number;
}

const STORAGE_KEY = 'parley.token';
export const DEV_TOKEN_PATH = '/dev/token';
// Fetch a fresh dev token a little before the old one expires.
const EXPIRY_MARGIN_MS = 60_000;

/**
 * Reads `?token=` from the page URL and returns the URL without it, so the
 * token does not stay in the address bar, history or screenshots.
 */
export function takeTokenFromUrl(href: string): { token?: string; cleanedUrl: string } {
  const url = new URL(href);
  const token = url.searchParams.get('token')?.trim();
  url.searchParams.delete('token');
  return { ...(token && { token }), cleanedUrl: url.toString() };
}

/**
 * The token for the next call: one the person (or the embedding app, via
 * `?token=`) provided, else a development token from the edge when it offers
 * one (`GET /dev/token`, only with PARLEY_DEV_TOKEN_ENDPOINT=1), else none.
 */
export class TokenSource {
  private dev?: { token: string; expiresAt: number };

  constructor(private readonly deps: TokenSourceDeps) {}

  get provided(): string | undefined {
    return this.deps.storage?.getItem(STORAGE_KEY) ?? undefined;
  }

  /** Saves (or with an empty value, clears) the person's own token. */
  setProvided(token: string | undefined): void {
    const t = token?.trim();
    if (t) this.deps.storage?.setItem(STORAGE_KEY, t);
    else this.deps.storage?.removeItem(STORAGE_KEY);
  }

  async get(): Promise<{ token?: string; origin: TokenOrigin }> {
    const provided = this.provided;
    if (provided) return { token: provided, origin: 'provided' };
    const dev = await this.devToken();
    return dev ? { token: dev, origin: 'dev' } : { origin: 'none' };
  }

  /** After a 401: the cached dev token is no good, ask again next time. */
  invalidate(): void {
    this.dev = undefined;
  }

  private async devToken(): Promise<string | undefined> {
    const now = this.deps.now?.() ?? Date.now();
    if (this.dev && this.dev.expiresAt - EXPIRY_MARGIN_MS > now) return this.dev.token;
    this.dev = undefined;
    try {
      const res = await this.deps.fetch(new URL(DEV_TOKEN_PATH, this.deps.edgeUrl), { cache: 'no-store' });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { token?: unknown; expiresInSeconds?: unknown };
      if (typeof body.token !== 'string' || body.token === '') return undefined;
      const ttl = typeof body.expiresInSeconds === 'number' ? body.expiresInSeconds : 300;
      this.dev = { token: body.token, expiresAt: now + ttl * 1000 };
      return body.token;
    } catch {
      // No dev endpoint reachable: the call goes out without a token and the edge says why.
      return undefined;
    }
  }
}
