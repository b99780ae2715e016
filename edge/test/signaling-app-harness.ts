import { readFileSync } from 'node:fs';
import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { pino } from 'pino';
import { expect } from 'vitest';
import { createSignalingApp, type SignalingAppDeps } from '../src/signaling/app.js';
import { createJwtAuthenticator, mintDevToken } from '../src/signaling/auth.js';
import { PROBLEM_CONTENT_TYPE } from '../src/signaling/problem.js';
import type {
  CloseResult,
  CreateResult,
  CreateSessionRequest,
  SessionBroker,
} from '../src/signaling/session-broker.js';

/** Helpers for testing the signaling app through app.request(). */
export const SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const OFFER = readFileSync(
  new URL('../src/signaling/__fixtures__/chrome-offer.sdp', import.meta.url),
  'utf8',
).replace(/\r?\n/g, '\r\n');
export const ANSWER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
export const ROUTE = '0123456789ab';

/** Interface double for the HTTP layer: records calls, returns what the test says. */
export class StubBroker implements SessionBroker {
  readonly created: CreateSessionRequest[] = [];
  readonly closed: string[] = [];
  readonly live = new Set<string>();
  nextCreate?: CreateResult | (() => Promise<CreateResult>);

  async create(req: CreateSessionRequest): Promise<CreateResult> {
    this.created.push(req);
    const next = this.nextCreate;
    if (typeof next === 'function') return next();
    if (next) return next;
    const sessionId = newSessionId(ROUTE);
    this.live.add(sessionId);
    return { ok: true, sessionId, answer: ANSWER };
  }

  async close(sessionId: string): Promise<CloseResult> {
    this.closed.push(sessionId);
    if (!this.live.delete(sessionId)) return { ok: false, code: 'not_found', detail: 'no such session' };
    return { ok: true };
  }
}

export function makeApp(over: Partial<SignalingAppDeps> = {}) {
  const broker = new StubBroker();
  const app = createSignalingApp({
    auth: createJwtAuthenticator({ secret: SECRET }),
    broker,
    log: pino({ level: 'silent' }),
    ...over,
  });
  return { app, broker };
}

export async function bearer(opts: { subject?: string; ttlSeconds?: number } = {}): Promise<string> {
  return `Bearer ${await mintDevToken(SECRET, { subject: opts.subject ?? 'alice', ttlSeconds: opts.ttlSeconds ?? 60 })}`;
}

export async function post(
  app: ReturnType<typeof makeApp>['app'],
  init: { body?: RequestInit['body']; headers?: Record<string, string>; query?: string } = {},
): Promise<Response> {
  return app.request(`/v1/sessions${init.query ?? ''}`, {
    method: 'POST',
    body: init.body ?? OFFER,
    headers: { 'Content-Type': 'application/sdp', Authorization: await bearer(), ...init.headers },
  });
}

export async function expectProblem(
  res: Response,
  status: number,
  detail?: RegExp,
): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(typeof body.detail).toBe('string');
  if (detail) expect(body.detail).toMatch(detail);
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack traces
  return body;
}
