import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ANSWER, makeApp, OFFER, ROUTE } from '../../test/signaling-app-harness.js';
import { agentForModel, ClientSecrets, parseAppKeys } from './client-secrets.js';
import { mountRealtimeRoutes } from './realtime-routes.js';

const APP_KEY = 'sk-parley-app-key-that-is-long-enough-0001';
const OTHER_KEY = 'sk-parley-app-key-that-is-long-enough-0002';

function setup(opts: { keys?: string; now?: () => number; corsOrigins?: string[] } = {}) {
  const { app, broker } = makeApp(opts.corsOrigins ? { corsOrigins: opts.corsOrigins } : {});
  const secrets = new ClientSecrets(parseAppKeys(opts.keys ?? APP_KEY), opts.now);
  const initial: [string, Record<string, unknown>][] = [];
  mountRealtimeRoutes(app, {
    secrets,
    broker,
    log: pino({ level: 'silent' }),
    maxOfferBytes: 64 * 1024,
    applyInitialSession: async (id, session) => {
      initial.push([id, session]);
    },
  });
  return { app, broker, secrets, initial };
}

async function mint(app: ReturnType<typeof setup>['app'], body: unknown, key = APP_KEY) {
  return app.request('/v1/realtime/client_secrets', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function call(app: ReturnType<typeof setup>['app'], secret: string, body = OFFER, type = 'application/sdp') {
  return app.request('/v1/realtime/calls', {
    method: 'POST',
    headers: { Authorization: `Bearer ${secret}`, 'Content-Type': type },
    body,
  });
}

async function expectOaiProblem(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { status: number; error: { code: string | null; message: string } };
  expect(body.status).toBe(status);
  expect(body.error.message.length).toBeGreaterThan(0);
  if (code !== undefined) expect(body.error.code).toBe(code);
  return body;
}

describe('application keys', () => {
  it('needs at least one key of 32+ characters', () => {
    expect(() => parseAppKeys(' , ')).toThrow(/names no key/);
    expect(() => parseAppKeys(`${APP_KEY},short`)).toThrow(/#2 must be at least 32/);
    const keys = parseAppKeys(`${APP_KEY}, ${OTHER_KEY}`);
    expect(keys.map((k) => k.id)).toHaveLength(2);
    expect(keys[0]?.id).toMatch(/^[0-9a-f]{16}$/);
    expect(keys[0]?.id).not.toBe(keys[1]?.id);
  });

  it('maps session models to agents: Parley agent names pass, OpenAI model names get the default', () => {
    expect(agentForModel('echo')).toBe('echo');
    expect(agentForModel('gpt-realtime')).toBeUndefined();
    expect(agentForModel(undefined)).toBeUndefined();
  });
});

describe('POST /v1/realtime/client_secrets', () => {
  it('mints an ek_ secret with the OpenAI shape { value, expires_at, session } from the application key', async () => {
    const now = 1_800_000_000_000;
    const { app } = setup({ now: () => now });
    const res = await mint(app, {
      expires_after: { anchor: 'created_at', seconds: 120 },
      session: { type: 'realtime', model: 'echo', instructions: 'be brief' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as {
      value: string;
      expires_at: number;
      session: Record<string, unknown>;
    };
    expect(body.value).toMatch(/^ek_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(body.expires_at).toBe(now / 1000 + 120);
    expect(body.session).toMatchObject({ type: 'realtime', model: 'echo', instructions: 'be brief' });
  });

  it('defaults to 10 minutes and an empty body', async () => {
    const now = 1_800_000_000_000;
    const { app } = setup({ now: () => now });
    const res = await app.request('/v1/realtime/client_secrets', {
      method: 'POST',
      headers: { Authorization: `Bearer ${APP_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { expires_at: number }).expires_at).toBe(now / 1000 + 600);
  });

  it('refuses missing or wrong keys (401) and client secrets used as keys', async () => {
    const { app } = setup();
    const none = await app.request('/v1/realtime/client_secrets', { method: 'POST' });
    await expectOaiProblem(none, 401, 'invalid_api_key');
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    await expectOaiProblem(await mint(app, {}, OTHER_KEY), 401);
    const secret = ((await (await mint(app, {})).json()) as { value: string }).value;
    await expectOaiProblem(await mint(app, {}, secret), 401);
  });

  it('refuses bad bodies with 400 naming the parameter', async () => {
    const { app } = setup();
    const cases: [unknown, string][] = [
      [{ expires_after: { seconds: 5 } }, 'expires_after.seconds'],
      [{ expires_after: { seconds: 99_999 } }, 'expires_after.seconds'],
      [{ expires_after: { anchor: 'now', seconds: 60 } }, 'expires_after.anchor'],
      [{ session: { type: 'transcription' } }, 'session.type'],
      [{ session: { model: 'no spaces allowed' } }, 'session.model'],
      [{ session: { instructions: 1 } }, 'session.instructions'],
      [[1], ''],
    ];
    for (const [body, param] of cases) {
      const problem = await expectOaiProblem(await mint(app, body), 400);
      expect((problem.error as unknown as { param: string }).param, JSON.stringify(body)).toBe(param);
    }
    const notJson = await app.request('/v1/realtime/client_secrets', {
      method: 'POST',
      headers: { Authorization: `Bearer ${APP_KEY}` },
      body: '{',
    });
    await expectOaiProblem(notJson, 400, 'invalid_json');
  });
});

describe('POST /v1/realtime/calls', () => {
  it('places the call like /v1/sessions: SDP answer, 201, Location /v1/realtime/calls/{id}, the secret’s agent', async () => {
    const { app, broker } = setup();
    const secret = ((await (await mint(app, { session: { model: 'echo' } })).json()) as { value: string })
      .value;
    const res = await call(app, secret);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/sdp');
    expect(await res.text()).toBe(ANSWER);
    const id = broker.created.length === 1 ? [...broker.live][0] : undefined;
    expect(res.headers.get('location')).toBe(`/v1/realtime/calls/${id}`);
    // The SDK takes the call id as the Location's last segment.
    expect(res.headers.get('location')?.split('/').pop()).toMatch(new RegExp(`^${ROUTE}-`));
    expect(broker.created[0]).toMatchObject({ offer: OFFER, agent: 'echo' });
    expect(broker.created[0]?.subject).toMatch(/^app:[0-9a-f]{16}$/);
  });

  it('hands the placed call the settings its secret carries (and nothing when it carries none)', async () => {
    const { app, initial } = setup();
    const plain = ((await (await mint(app, { session: { model: 'echo' } })).json()) as { value: string })
      .value;
    expect((await call(app, plain)).status).toBe(201);
    expect(initial).toEqual([]);
    const withSettings = (
      (await (
        await mint(app, {
          session: {
            type: 'realtime',
            model: 'echo',
            instructions: 'be brief',
            audio: { input: { turn_detection: null } },
          },
        })
      ).json()) as { value: string }
    ).value;
    const res = await call(app, withSettings);
    const id = res.headers.get('location')?.split('/').pop();
    expect(initial).toEqual([
      [id, { type: 'realtime', instructions: 'be brief', audio: { input: { turn_detection: null } } }],
    ]);
  });

  it('takes the application key itself (server-side callers), with the default agent', async () => {
    const { app, broker } = setup();
    expect((await call(app, APP_KEY)).status).toBe(201);
    expect(broker.created[0]?.agent).toBeUndefined();
  });

  it('refuses expired, foreign and revoked secrets with 401', async () => {
    let now = 1_800_000_000_000;
    const { app } = setup({ now: () => now });
    const secret = ((await (await mint(app, { expires_after: { seconds: 10 } })).json()) as { value: string })
      .value;
    now += 16_000; // past the 5 s tolerance
    expect(((await expectOaiProblem(await call(app, secret), 401)) as { detail?: string }).detail).toMatch(
      /expired/,
    );

    // Minted by a key this deployment no longer has (removing a key revokes its secrets).
    const other = setup({ keys: OTHER_KEY, now: () => now });
    const foreign = ((await (await mint(other.app, {}, OTHER_KEY)).json()) as { value: string }).value;
    await expectOaiProblem(await call(app, foreign), 401);
    await expectOaiProblem(await call(app, 'ek_not-a-jwt'), 401);
    await expectOaiProblem(await call(app, 'not-a-secret'), 401);
  });

  it('refuses non-SDP bodies (415), unusable offers (400) and maps broker failures (503 with an OpenAI error code)', async () => {
    const { app, broker } = setup();
    const secret = ((await (await mint(app, {})).json()) as { value: string }).value;
    const wrongType = await call(app, secret, OFFER, 'application/json');
    await expectOaiProblem(wrongType, 415);
    expect(wrongType.headers.get('accept-post')).toBe('application/sdp');
    await expectOaiProblem(await call(app, secret, 'v=0\r\n'), 400, 'bad_offer');
    broker.nextCreate = { ok: false, code: 'no_capacity', detail: 'all transceivers are full' };
    const res = await call(app, secret);
    expect(res.headers.get('retry-after')).toBe('2');
    const full = await expectOaiProblem(res, 503, 'no_capacity');
    expect((full.error as unknown as { type: string }).type).toBe('server_error');
  });
});

describe('hang-up and the sideband path', () => {
  it('POST /v1/realtime/calls/{id}/hangup ends the call with the application key only', async () => {
    const { app, broker } = setup();
    const res = await call(app, APP_KEY);
    const id = res.headers.get('location')?.split('/').pop() as string;
    const secret = ((await (await mint(app, {})).json()) as { value: string }).value;
    const hang = (key: string, callId = id) =>
      app.request(`/v1/realtime/calls/${callId}/hangup`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}` },
      });
    await expectOaiProblem(await hang(secret), 401);
    expect((await hang(APP_KEY)).status).toBe(200);
    expect(broker.closed).toEqual([id]);
    await expectOaiProblem(await hang(APP_KEY), 404, 'not_found');
    await expectOaiProblem(await hang(APP_KEY, newSessionId(ROUTE)), 404);
  });

  it('a plain GET /v1/realtime asks for a WebSocket (426)', async () => {
    const { app } = setup();
    const res = await app.request('/v1/realtime?call_id=x');
    await expectOaiProblem(res, 426);
    expect(res.headers.get('upgrade')).toBe('websocket');
  });

  it('lets browsers on other origins send the Agents SDK header (CORS preflight)', async () => {
    const { app } = setup({ corsOrigins: ['https://app.example'] });
    const res = await app.request('/v1/realtime/calls', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-openai-agents-sdk',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-openai-agents-sdk');
    expect(res.headers.get('access-control-expose-headers')).toContain('Location');
  });
});
