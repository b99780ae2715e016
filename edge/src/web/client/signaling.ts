import { CallFailure } from './failures.js';

/** WHIP-style signaling against the edge: POST an offer, DELETE the session URL. */
export interface SignalingTarget {
  fetch: typeof fetch;
  /** The edge's origin, e.g. http://127.0.0.1:8080 (the page's own origin when served by the edge). */
  edgeUrl: string;
  /** Signaling JWT; omitted when the edge runs with PARLEY_AUTH=off. */
  token?: string;
}

export interface Session {
  /** Absolute URL to DELETE on hang-up. */
  sessionUrl: string;
  answer: string;
}

export interface Problem {
  title?: string;
  detail?: string;
}

export const DEFAULT_SIGNALING_TIMEOUT_MS = 15_000;

/**
 * POST /v1/sessions. Fails with a CallFailure saying what went wrong in the
 * edge's own words (problem+json detail), never with a bare network error.
 */
export async function createSession(
  target: SignalingTarget,
  req: { offer: string; agent?: string; signal?: AbortSignal; timeoutMs?: number },
): Promise<Session> {
  const url = new URL('/v1/sessions', target.edgeUrl);
  if (req.agent) url.searchParams.set('agent', req.agent);
  const timeoutMs = req.timeoutMs ?? DEFAULT_SIGNALING_TIMEOUT_MS;
  const { signal, timedOut, dispose } = deadline(timeoutMs, req.signal);
  let res: Response;
  try {
    res = await target.fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', ...authHeader(target.token) },
      body: req.offer,
      signal,
      cache: 'no-store',
    });
  } catch (err) {
    dispose();
    if (req.signal?.aborted) throw new CallFailure('cancelled');
    const detail = timedOut() ? `no answer within ${duration(timeoutMs)}` : errorMessage(err);
    throw new CallFailure('edge-unreachable', { detail, edge: target.edgeUrl });
  }
  dispose();
  if (res.status !== 201) throw failureFromResponse(res.status, await readProblem(res), res.headers);
  const location = res.headers.get('Location');
  if (!location) throw new CallFailure('edge-rejected', { status: res.status, detail: 'no Location header' });
  return { sessionUrl: new URL(location, url).toString(), answer: await res.text() };
}

/**
 * DELETE the session. Best effort: a session already gone (404) is fine.
 * `keepalive` lets the request outlive the page on unload.
 */
export async function endSession(
  target: Omit<SignalingTarget, 'edgeUrl'>,
  sessionUrl: string,
  opts: { keepalive?: boolean } = {},
): Promise<number | undefined> {
  try {
    const res = await target.fetch(sessionUrl, {
      method: 'DELETE',
      headers: authHeader(target.token),
      keepalive: opts.keepalive ?? false,
    });
    return res.status;
  } catch {
    return undefined;
  }
}

/**
 * WHIP ICE restart (RFC 9725 §4.3.2): PATCH the session URL with our new ICE
 * credentials; the edge answers with the server's new ones (a sdpfrag).
 */
export async function restartSessionIce(
  target: Omit<SignalingTarget, 'edgeUrl'>,
  sessionUrl: string,
  creds: { ufrag: string; pwd: string },
): Promise<{ ufrag: string; pwd: string }> {
  const res = await target.fetch(sessionUrl, {
    method: 'PATCH',
    headers: {
      'Content-Type': 'application/trickle-ice-sdpfrag',
      'If-Match': '*',
      ...authHeader(target.token),
    },
    body: `a=ice-ufrag:${creds.ufrag}\r\na=ice-pwd:${creds.pwd}\r\n`,
    cache: 'no-store',
  });
  if (res.status !== 200) throw failureFromResponse(res.status, await readProblem(res), res.headers);
  const frag = await res.text();
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(frag)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(frag)?.[1];
  if (!ufrag || !pwd)
    throw new CallFailure('connection-lost', { detail: 'ICE restart answer had no credentials' });
  return { ufrag, pwd };
}

/** Reads an RFC 9457 body; anything else becomes a short text detail. */
export async function readProblem(res: Response): Promise<Problem> {
  const type = (res.headers.get('Content-Type') ?? '').toLowerCase();
  const text = await res.text().catch(() => '');
  if (type.includes('json')) {
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      return {
        ...(typeof body.title === 'string' && { title: body.title }),
        ...(typeof body.detail === 'string' && { detail: body.detail }),
      };
    } catch {
      // Fall through: show what came back.
    }
  }
  const trimmed = text.trim().slice(0, 200);
  return trimmed ? { detail: trimmed } : {};
}

export function failureFromResponse(status: number, problem: Problem, headers: Headers): CallFailure {
  const detail = problem.detail ?? problem.title;
  if (status === 401 || status === 403) return new CallFailure('unauthorized', { status, detail });
  if (status === 503) {
    const retry = Number(headers.get('Retry-After'));
    return new CallFailure('unavailable', {
      status,
      detail,
      ...(Number.isFinite(retry) && retry > 0 && { retryAfterSeconds: retry }),
    });
  }
  return new CallFailure('edge-rejected', { status, detail });
}

function authHeader(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function errorMessage(err: unknown): string {
  const m = (err as { message?: unknown } | null)?.message;
  return typeof m === 'string' && m !== '' ? m : 'network error';
}

/** A signal that fires on the caller's abort or after `ms` (AbortSignal.any is too new to rely on). */
function deadline(ms: number, outer?: AbortSignal) {
  const ctl = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    ctl.abort();
  }, ms);
  const onAbort = () => ctl.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  if (outer?.aborted) ctl.abort();
  return {
    signal: ctl.signal,
    timedOut: () => expired,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}
