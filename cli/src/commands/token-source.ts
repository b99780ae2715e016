/**
 * Where `parley call` and `parley loadtest` get their bearer token: the flag,
 * then PARLEY_TOKEN, then a loopback dev edge's `GET /dev/token` (the one the
 * page uses), so a fresh `parley dev` needs no copy and paste.
 */

export class TokenUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenUnavailableError';
  }
}

export type TokenOrigin = 'flag' | 'env' | 'dev-edge' | 'none';

export interface ResolvedToken {
  token?: string;
  origin: TokenOrigin;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackUrl(edgeUrl: string): boolean {
  const host = new URL(edgeUrl).hostname.toLowerCase();
  return LOOPBACK_NAMES.has(host) || /^127(?:\.\d{1,3}){3}$/.test(host);
}

const HOW = 'pass --token <jwt> or set PARLEY_TOKEN (mint one with `parley token`)';

export async function resolveToken(
  edgeUrl: string,
  given: { flag?: string; env?: string },
  fetchImpl: typeof fetch = fetch,
): Promise<ResolvedToken> {
  if (given.flag) return { token: given.flag, origin: 'flag' };
  if (given.env) return { token: given.env, origin: 'env' };
  if (!isLoopbackUrl(edgeUrl)) {
    // Only a local dev edge hands out tokens; anything else must be given one.
    throw new TokenUnavailableError(`no token for ${edgeUrl}: ${HOW}`);
  }
  const url = new URL('/dev/token', edgeUrl);
  let res: Response;
  try {
    res = await fetchImpl(url, { signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    throw new TokenUnavailableError(
      `cannot reach ${edgeUrl} to fetch a dev token (${(err as Error).message}); is \`parley dev\` running?`,
      { cause: err },
    );
  }
  if (res.status === 404) {
    await res.body?.cancel();
    // An edge with PARLEY_AUTH=off also has no /dev/token, and needs no token: let it decide.
    return { origin: 'none' };
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new TokenUnavailableError(`${url} answered ${res.status}; ${HOW}`);
  }
  const body = (await res.json().catch(() => undefined)) as { token?: unknown } | undefined;
  if (typeof body?.token !== 'string' || body.token === '')
    throw new TokenUnavailableError(`${url} sent no token; ${HOW}`);
  return { token: body.token, origin: 'dev-edge' };
}

/** What to add to a 401 when no token was sent because the edge has no dev token endpoint. */
export function unauthorizedHint(origin: TokenOrigin): string {
  return origin === 'none'
    ? ` (this edge hands out no dev tokens: it is not a \`parley dev\` edge; ${HOW})`
    : '';
}

/**
 * The agent a token is bound to (its `parley_agent` claim), read without
 * verifying: only to pick a default the edge will accept, never to trust.
 */
export function agentClaimOf(token: string | undefined): string | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof claims.parley_agent === 'string' ? claims.parley_agent : undefined;
  } catch {
    return undefined;
  }
}
