import type { Logger } from '@parley/shared/log.js';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { validateOffer } from '../signaling/offer-validation.js';
import { type ProblemInit, ProblemType, problemResponse } from '../signaling/problem.js';
import type { BrokerErrorCode, SessionBroker } from '../signaling/session-broker.js';
import { type ClientSecrets, MAX_TTL_SECONDS, MIN_TTL_SECONDS } from './client-secrets.js';

/**
 * The OpenAI-Realtime-compatible HTTP routes:
 *
 * - `POST /v1/realtime/client_secrets` (application key): a short-lived `ek_` secret.
 * - `POST /v1/realtime/calls` (client secret or application key): SDP offer in,
 *   SDP answer out, `Location: /v1/realtime/calls/{call_id}`; placed exactly like
 *   `/v1/sessions` (same broker), so the call id is a Parley session id.
 * - `POST /v1/realtime/calls/{call_id}/hangup` (application key).
 *
 * Errors are problem+json like every Parley route, with an OpenAI-style
 * `error` member ({ message, type, code }) added so OpenAI clients can read them too.
 */
export const REALTIME_PATH = '/v1/realtime';
export const CALLS_PATH = `${REALTIME_PATH}/calls`;
export const CLIENT_SECRETS_PATH = `${REALTIME_PATH}/client_secrets`;
const MAX_SECRET_REQUEST_BYTES = 16 * 1024;
const AGENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export interface RealtimeRouteDeps {
  secrets: ClientSecrets;
  broker: SessionBroker;
  log: Logger;
  maxOfferBytes: number;
  /**
   * Hands a placed call the session settings its client secret carries
   * (instructions, turn detection, tools…), to start from; best effort.
   */
  applyInitialSession?: (callId: string, session: Record<string, unknown>) => Promise<void>;
}

const BROKER_STATUS: Record<BrokerErrorCode, number> = {
  bad_offer: 400,
  not_found: 404,
  no_transceivers: 503,
  no_capacity: 503,
  draining: 503,
  timeout: 503,
  unavailable: 503,
  transceiver_error: 502,
};

// biome-ignore lint/suspicious/noExplicitAny: mounts onto the signaling app whatever its Env type.
export function mountRealtimeRoutes(app: Hono<any>, deps: RealtimeRouteDeps): void {
  const { secrets, broker, log } = deps;

  app.post(
    CLIENT_SECRETS_PATH,
    bodyLimit({
      maxSize: MAX_SECRET_REQUEST_BYTES,
      onError: () =>
        oaiProblem(
          413,
          'invalid_request_error',
          `the request must be at most ${MAX_SECRET_REQUEST_BYTES} bytes`,
        ),
    }),
    async (c) => {
      const key = secrets.appKey(c.req.header('Authorization'));
      if (!key) return unauthorized('an application API key is required to mint client secrets');
      const text = await c.req.text();
      let body: unknown = {};
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          return oaiProblem(400, 'invalid_request_error', 'the body is not valid JSON', 'invalid_json');
        }
      }
      const parsed = parseSecretRequest(body);
      if (!parsed.ok)
        return oaiProblem(400, 'invalid_request_error', parsed.detail, 'invalid_value', parsed.param);
      const minted = await secrets.mint(key, parsed.value);
      log.info({ key: key.id, expiresAt: minted.expires_at }, 'realtime client secret minted');
      return c.json(minted, 200, { 'Cache-Control': 'no-store' });
    },
  );

  app.post(
    CALLS_PATH,
    bodyLimit({
      maxSize: deps.maxOfferBytes,
      onError: () =>
        oaiProblem(413, 'invalid_request_error', `the offer must be at most ${deps.maxOfferBytes} bytes`),
    }),
    async (c) => {
      const header = c.req.header('Authorization');
      // A client secret (browsers) or the application key itself (servers), as OpenAI allows.
      const appKey = secrets.appKey(header);
      let agent: string | undefined;
      let initial: Record<string, unknown> | undefined;
      let subject: string;
      if (appKey) subject = `app:${appKey.id}`;
      else {
        const check = await secrets.verify(header);
        if (!check.ok) return unauthorized(check.detail);
        agent = check.agent;
        initial = sessionSettings(check.session);
        subject = `app:${check.keyId}`;
      }
      const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (mediaType !== 'application/sdp')
        return oaiProblem(
          415,
          'invalid_request_error',
          'send the offer as Content-Type: application/sdp',
          undefined,
          undefined,
          {
            'Accept-Post': 'application/sdp',
          },
        );
      const offer = await c.req.text();
      const check = validateOffer(offer);
      if (!check.ok)
        return oaiProblem(
          400,
          'invalid_request_error',
          check.detail,
          'bad_offer',
          undefined,
          {},
          ProblemType.badOffer,
        );
      const result = await broker.create({ offer, subject, ...(agent !== undefined && { agent }) });
      if (!result.ok) {
        const status = BROKER_STATUS[result.code];
        // Another transceiver may have room (or this one may finish draining) in a moment.
        const retry: Record<string, string> = status === 503 ? { 'Retry-After': '2' } : {};
        return oaiProblem(
          status,
          status >= 500 ? 'server_error' : 'invalid_request_error',
          result.detail,
          result.code,
          undefined,
          retry,
        );
      }
      // Before the answer goes out, so the settings are there before the client can open oai-events.
      if (initial) await deps.applyInitialSession?.(result.sessionId, initial);
      return c.body(result.answer, 201, {
        'Content-Type': 'application/sdp',
        Location: `${CALLS_PATH}/${result.sessionId}`,
        'Cache-Control': 'no-store',
      });
    },
  );

  app.post(`${CALLS_PATH}/:id/hangup`, async (c) => {
    if (!secrets.appKey(c.req.header('Authorization')))
      return unauthorized('an application API key is required to hang up a call');
    const result = await broker.close(c.req.param('id'));
    if (!result.ok) {
      const status = BROKER_STATUS[result.code];
      return oaiProblem(
        status,
        status >= 500 ? 'server_error' : 'invalid_request_error',
        result.detail,
        result.code,
      );
    }
    return c.body(null, 200);
  });

  // The sideband is a WebSocket; a plain GET reached the HTTP app because it asked for no upgrade.
  app.get(REALTIME_PATH, () =>
    oaiProblem(
      426,
      'invalid_request_error',
      'connect with a WebSocket: GET /v1/realtime?call_id=…',
      undefined,
      undefined,
      {
        Upgrade: 'websocket',
      },
    ),
  );
}

type SecretRequestCheck =
  | { ok: true; value: { ttlSeconds?: number; session?: Record<string, unknown> } }
  | { ok: false; detail: string; param: string };

/** OpenAI's request shape: { expires_after?: { anchor: 'created_at', seconds }, session?: { type: 'realtime', … } }. */
export function parseSecretRequest(body: unknown): SecretRequestCheck {
  if (!isRecord(body)) return { ok: false, detail: 'the body must be a JSON object', param: '' };
  const value: { ttlSeconds?: number; session?: Record<string, unknown> } = {};
  if (body.expires_after !== undefined) {
    const e = body.expires_after;
    if (!isRecord(e))
      return { ok: false, detail: "'expires_after' must be an object", param: 'expires_after' };
    if (e.anchor !== undefined && e.anchor !== 'created_at')
      return {
        ok: false,
        detail: "'expires_after.anchor' must be 'created_at'",
        param: 'expires_after.anchor',
      };
    const s = e.seconds;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < MIN_TTL_SECONDS || s > MAX_TTL_SECONDS)
      return {
        ok: false,
        detail: `'expires_after.seconds' must be an integer from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}`,
        param: 'expires_after.seconds',
      };
    value.ttlSeconds = s;
  }
  if (body.session !== undefined) {
    const s = body.session;
    if (!isRecord(s)) return { ok: false, detail: "'session' must be an object", param: 'session' };
    if (s.type !== undefined && s.type !== 'realtime')
      return { ok: false, detail: "only 'realtime' sessions are supported", param: 'session.type' };
    if (
      s.model !== undefined &&
      (typeof s.model !== 'string' || (!s.model.startsWith('gpt-') && !AGENT_NAME.test(s.model)))
    )
      return {
        ok: false,
        detail: "'session.model' must name a Parley agent (1-64 of A-Z a-z 0-9 _ . -) or an OpenAI model",
        param: 'session.model',
      };
    if (s.instructions !== undefined && typeof s.instructions !== 'string')
      return { ok: false, detail: "'session.instructions' must be a string", param: 'session.instructions' };
    value.session = s;
  }
  return { ok: true, value };
}

/** What a secret's session says beyond naming the session kind and model; undefined when nothing. */
function sessionSettings(session: Record<string, unknown>): Record<string, unknown> | undefined {
  const { type: _t, object: _o, model: _m, ...rest } = session;
  return Object.keys(rest).length > 0 ? { type: 'realtime', ...rest } : undefined;
}

function unauthorized(detail: string): Response {
  return oaiProblem(401, 'invalid_request_error', detail, 'invalid_api_key', undefined, {
    'WWW-Authenticate': 'Bearer realm="parley"',
  });
}

function oaiProblem(
  status: number,
  errorType: string,
  message: string,
  code?: string,
  param?: string,
  headers: Record<string, string> = {},
  type?: string,
): Response {
  const init: ProblemInit = {
    detail: message,
    headers,
    extensions: { error: { message, type: errorType, code: code ?? null, param: param ?? null } },
    ...(type !== undefined && { type }),
  };
  return problemResponse(status, init);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
