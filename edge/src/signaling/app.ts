import { createHash } from 'node:crypto';
import type { Logger } from '@parley/shared/log.js';
import { parseIceRestartFrag, SDPFRAG_CONTENT_TYPE } from '@parley/shared/webrtc/ice-sdpfrag.js';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import type { Authenticator } from './auth.js';
import { validateOffer } from './offer-validation.js';
import { type ProblemInit, ProblemType, problemResponse } from './problem.js';
import type { BrokerErrorCode, SessionBroker } from './session-broker.js';
import type { SessionStatusSource } from './session-events.js';
import { plainSessionIds, type SessionIds } from './session-owner.js';
import type { SessionEndedEvent } from './session-registry.js';

export interface HealthStatus {
  ok: boolean;
  /** Live transceivers this edge can place sessions on. */
  transceivers: number;
  /** Why not ok, for humans reading the health endpoint. */
  detail?: string;
}

export interface SignalingAppDeps {
  auth: Authenticator;
  broker: SessionBroker;
  log: Logger;
  /** Largest accepted offer body; default 64 KiB (browser offers are 2-6 KiB). */
  maxOfferBytes?: number;
  /** Origins allowed to call the API from a browser; `*` for any. None: no CORS headers. */
  corsOrigins?: string[];
  isHealthy?: () => HealthStatus;
  /** How session URLs are bound to the token's subject (default: not bound, for auth off). */
  sessionIds?: SessionIds;
  /** Request header whose value is the deployment's geo hint (PARLEY_GEO_HEADER), passed to the broker. */
  geoHintHeader?: string;
  /**
   * Session state and end notices for `GET <session URL>` and its `/events`
   * stream; without it those answer 405.
   */
  sessionStatus?: SessionStatusSource;
  /** Comment lines on an idle event stream, so proxies and NAT keep it open; default 15 s. */
  eventsHeartbeatMs?: number;
  /**
   * Runs first on every request, around everything else (e.g. tracing). Hono
   * runs handlers in registration order, so middleware added to the returned
   * app afterwards would never wrap the routes defined here.
   */
  middleware?: MiddlewareHandler[];
}

export const DEFAULT_MAX_OFFER_BYTES = 64 * 1024;
export const SESSIONS_PATH = '/v1/sessions';
const SESSION_PATH = `${SESSIONS_PATH}/:id`;
const SESSION_EVENTS_PATH = `${SESSION_PATH}/events`;
export const EVENT_STREAM_CONTENT_TYPE = 'text/event-stream';
const DEFAULT_EVENTS_HEARTBEAT_MS = 15_000;
const AUTH_REALM = 'parley';
// Agent names end up in NATS payloads and logs; keep them boring.
const AGENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

interface BrokerProblem {
  status: number;
  type: string;
  title: string;
  /** Seconds for Retry-After on 503s: how soon trying again could help. */
  retryAfter?: number;
}

/** Every broker error code has an HTTP meaning; the Record type makes a new code fail to compile until mapped. */
const BROKER_PROBLEMS: Record<BrokerErrorCode, BrokerProblem> = {
  bad_offer: { status: 400, type: ProblemType.badOffer, title: 'Unusable SDP offer' },
  not_found: { status: 404, type: ProblemType.sessionNotFound, title: 'Session not found' },
  no_transceivers: {
    status: 503,
    type: ProblemType.noTransceivers,
    title: 'No transceivers available',
    retryAfter: 5,
  },
  no_capacity: { status: 503, type: ProblemType.noCapacity, title: 'No capacity', retryAfter: 5 },
  draining: { status: 503, type: ProblemType.draining, title: 'Transceiver draining', retryAfter: 1 },
  timeout: { status: 503, type: ProblemType.transceiverTimeout, title: 'Transceiver timeout', retryAfter: 2 },
  unavailable: {
    status: 503,
    type: ProblemType.transceiverUnavailable,
    title: 'Transceiver unavailable',
    retryAfter: 2,
  },
  transceiver_error: { status: 502, type: ProblemType.transceiverError, title: 'Transceiver error' },
};

type Env = {
  Variables: { subject: string | undefined; tokenAgent: string | undefined; failure: string | undefined };
};

/**
 * The WHIP-style signaling API (RFC 9725): POST an SDP offer, get an SDP
 * answer and a session URL; DELETE the URL to hang up.
 *
 * Only /v1/* and the health endpoints are claimed here. Routes added to the
 * returned app before it is served (e.g. static files at `/`) work as usual;
 * anything unmatched gets a problem+json 404.
 */
export function createSignalingApp(deps: SignalingAppDeps): Hono<Env> {
  const { auth, broker, log } = deps;
  const maxOfferBytes = deps.maxOfferBytes ?? DEFAULT_MAX_OFFER_BYTES;
  // Without a health source (tests, embedding) the app itself being up is all we know.
  const isHealthy = deps.isHealthy ?? ((): HealthStatus => ({ ok: true, transceivers: 0 }));
  const sessionIds = deps.sessionIds ?? plainSessionIds;
  const app = new Hono<Env>();
  for (const m of deps.middleware ?? []) app.use('*', m);

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      subject: c.get('subject'),
      failure: c.get('failure'),
    };
    if (c.res.status >= 500) log.error(fields, 'request failed');
    else log.debug(fields, 'request');
  });

  if (deps.corsOrigins && deps.corsOrigins.length > 0) {
    const origins = deps.corsOrigins;
    app.use(
      '/v1/*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
        // OpenAI's Agents SDK adds its own header to the Realtime calls request (edge/src/realtime).
        allowHeaders: ['Authorization', 'Content-Type', 'If-Match', 'X-OpenAI-Agents-SDK'],
        // A browser client needs Location to learn its session URL.
        exposeHeaders: ['Location', 'Retry-After', 'WWW-Authenticate', 'ETag'],
        maxAge: 600,
      }),
    );
  }

  // Readiness for load balancers: 200 only if an offer sent here could
  // succeed, so an edge without NATS or transceivers leaves rotation (see README).
  app.get('/healthz', (c) => {
    const h = isHealthy();
    c.header('Cache-Control', 'no-store');
    return c.json(
      {
        status: h.ok ? 'ok' : 'unavailable',
        transceivers: h.transceivers,
        ...(h.detail && { detail: h.detail }),
      },
      h.ok ? 200 : 503,
    );
  });
  // Liveness: the process serves HTTP. Restarting an edge cannot fix missing transceivers.
  app.get('/livez', (c) => c.json({ status: 'ok' }));

  const requireAuth: MiddlewareHandler<Env> = async (c, next) => {
    const header = c.req.header('Authorization');
    const result = await auth.verify(header);
    if (!result.ok) {
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      const challenge = header?.trim()
        ? `Bearer realm="${AUTH_REALM}", error="invalid_token"`
        : `Bearer realm="${AUTH_REALM}"`;
      return problem(c, 401, { detail: result.detail, headers: { 'WWW-Authenticate': challenge } });
    }
    c.set('subject', result.subject);
    c.set('tokenAgent', result.agent);
    return next();
  };

  const requireSdp: MiddlewareHandler<Env> = async (c, next) => {
    const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/sdp') {
      return problem(c, 415, {
        detail: 'the offer must be sent as Content-Type: application/sdp',
        headers: { 'Accept-Post': 'application/sdp' },
      });
    }
    return next();
  };

  // Rejects on Content-Length up front, and counts bytes while streaming
  // otherwise, so an oversized body is never buffered whole.
  const limitBody = bodyLimit({
    maxSize: maxOfferBytes,
    onError: (c) => problem(c, 413, { detail: `the offer must be at most ${maxOfferBytes} bytes` }),
  });

  app.post(SESSIONS_PATH, requireAuth, requireSdp, limitBody, async (c) => {
    // The token's agent claim, when present, is binding; ?agent= may only repeat it.
    const requested = c.req.query('agent');
    const granted = c.get('tokenAgent');
    if (granted !== undefined && requested !== undefined && requested !== granted) {
      return problem(c, 403, { detail: `this token may only talk to agent "${granted}"` });
    }
    const agent = granted ?? requested;
    if (agent !== undefined && !AGENT_NAME.test(agent)) {
      return problem(c, 400, { detail: 'agent must be 1-64 characters of A-Z a-z 0-9 _ . -' });
    }
    const offer = await c.req.text();
    const check = validateOffer(offer);
    if (!check.ok)
      return problem(c, 400, {
        type: ProblemType.badOffer,
        title: 'Unusable SDP offer',
        detail: check.detail,
      });

    const subject = c.get('subject');
    const result = await broker.create({
      offer,
      ...(agent !== undefined && { agent }),
      ...(subject !== undefined && { subject }),
      ...(deps.geoHintHeader &&
        c.req.header(deps.geoHintHeader) && { geoHint: c.req.header(deps.geoHintHeader) }),
    });
    if (!result.ok) return brokerProblem(c, result.code, result.detail);
    return c.body(result.answer, 201, {
      'Content-Type': 'application/sdp',
      Location: `${SESSIONS_PATH}/${sessionIds.publicId(result.sessionId, subject)}`,
      'Cache-Control': 'no-store',
    });
  });

  app.delete(SESSION_PATH, requireAuth, async (c) => {
    // Another user's session looks exactly like one that does not exist.
    const sessionId = sessionIds.resolve(c.req.param('id'), c.get('subject'));
    if (sessionId === undefined) return brokerProblem(c, 'not_found', 'no such session');
    const result = await broker.close(sessionId);
    if (!result.ok) return brokerProblem(c, result.code, result.detail);
    // RFC 9725 §4.3: the session is torn down with a 200 OK.
    return c.body(null, 200);
  });

  // WHIP ICE restart (RFC 9725 §4.3.2): the client's new ICE credentials go to
  // the owning transceiver, which answers with its own (a new routing token).
  // A PATCH with the current credentials is trickle ICE: accepted, nothing to
  // do (the relay is the only candidate), 204.
  app.patch(SESSION_PATH, requireAuth, async (c) => {
    const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== SDPFRAG_CONTENT_TYPE)
      return problem(c, 415, {
        detail: `send ICE credentials as Content-Type: ${SDPFRAG_CONTENT_TYPE}`,
        headers: { 'Accept-Patch': SDPFRAG_CONTENT_TYPE },
      });
    const sessionId = sessionIds.resolve(c.req.param('id'), c.get('subject'));
    if (sessionId === undefined) return brokerProblem(c, 'not_found', 'no such session');
    if (!broker.restartIce)
      return problem(c, 405, { detail: 'ICE restart is not available', headers: { Allow: 'DELETE' } });
    const frag = parseIceRestartFrag(await c.req.text());
    if (!frag.ok) return problem(c, 400, { title: 'Unusable ICE fragment', detail: frag.detail });
    const result = await broker.restartIce({
      sessionId,
      ufrag: frag.ufrag,
      pwd: frag.pwd,
      ...(frag.mid !== undefined && { mid: frag.mid }),
    });
    if (!result.ok) {
      const { code, detail } = result;
      if (code !== 'not_connected') return brokerProblem(c, code, detail);
      return problem(c, 409, {
        type: 'urn:parley:problem:ice-not-established',
        title: 'ICE session not established',
        detail,
        extensions: { code },
      });
    }
    if (result.sdpfrag === '') return c.body(null, 204);
    // The entity tag names this ICE session (RFC 9725 §4.3.1): it changes with every restart.
    const etag = `"${createHash('sha256').update(result.sdpfrag).digest('base64url').slice(0, 22)}"`;
    return c.body(result.sdpfrag, 200, {
      'Content-Type': SDPFRAG_CONTENT_TYPE,
      ETag: etag,
      'Cache-Control': 'no-store',
    });
  });

  const status = deps.sessionStatus;
  if (status) {
    const heartbeatMs = deps.eventsHeartbeatMs ?? DEFAULT_EVENTS_HEARTBEAT_MS;

    // The session's state as this edge knows it: active, or ended and why.
    app.get(SESSION_PATH, requireAuth, async (c) => {
      const sessionId = sessionIds.resolve(c.req.param('id'), c.get('subject'));
      if (sessionId === undefined) return brokerProblem(c, 'not_found', 'no such session');
      const r = await status.status(sessionId);
      if (!r.ok) return brokerProblem(c, r.code, r.detail);
      c.header('Cache-Control', 'no-store');
      return c.json(
        r.state === 'active'
          ? { state: 'active', cluster: r.cluster }
          : { state: 'ended', cluster: r.cluster, reason: r.ended.reason },
      );
    });

    // Server-sent events (text/event-stream): `session.ended` when the session
    // ends, including when its transceiver or whole core region is gone and
    // cannot say so on the data channel; then the stream closes.
    app.get(SESSION_EVENTS_PATH, requireAuth, async (c) => {
      const sessionId = sessionIds.resolve(c.req.param('id'), c.get('subject'));
      if (sessionId === undefined) return brokerProblem(c, 'not_found', 'no such session');
      const r = await status.status(sessionId);
      if (!r.ok) return brokerProblem(c, r.code, r.detail);
      const headers = {
        'Content-Type': `${EVENT_STREAM_CONTENT_TYPE}; charset=utf-8`,
        'Cache-Control': 'no-store',
        // Proxies that buffer responses (nginx) would hold the event back.
        'X-Accel-Buffering': 'no',
      };
      if (r.state === 'ended') return c.body(sseEvent(r.ended), 200, headers);
      return streamSessionEnd(c, status, sessionId, heartbeatMs, headers);
    });
    app.all(SESSION_EVENTS_PATH, (c) => problem(c, 405, { detail: 'use GET', headers: { Allow: 'GET' } }));
  }

  app.all(SESSIONS_PATH, (c) => problem(c, 405, { detail: 'use POST', headers: { Allow: 'POST' } }));
  app.all(SESSION_PATH, (c) => {
    const allow = status ? 'GET, DELETE, PATCH' : 'DELETE, PATCH';
    return problem(c, 405, {
      detail: `use ${allow.replace(', PATCH', ' or PATCH')}`,
      headers: { Allow: allow },
    });
  });

  app.notFound((c) => problem(c, 404, { detail: `no route for ${c.req.method} ${c.req.path}` }));

  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status < 500) {
      return problem(c, err.status, { detail: err.message || undefined });
    }
    // Details stay in the log; the client gets nothing it could learn internals from.
    log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error in signaling request');
    return problem(c, 500, { detail: 'internal error' });
  });

  return app;
}

/** One server-sent event, its data the same JSON as the data channel's `session.ended`. */
function sseEvent(e: SessionEndedEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * Holds the stream open until the session ends (then sends the event and
 * closes) or the client goes away (the watcher is removed). Comment lines
 * every `heartbeatMs` keep idle intermediaries from cutting it.
 */
async function streamSessionEnd(
  c: Context<Env>,
  source: SessionStatusSource,
  sessionId: string,
  heartbeatMs: number,
  headers: Record<string, string>,
): Promise<Response> {
  // Watch before the stream exists, so a refusal is still a proper problem response.
  let deliver: ((e: SessionEndedEvent) => void) | undefined;
  let early: SessionEndedEvent | undefined;
  const w = source.watch(sessionId, (e) => {
    if (deliver) deliver(e);
    else early = e;
  });
  if (w === 'busy')
    return problem(c, 429, {
      detail: 'too many event streams are open for this session',
      headers: { 'Retry-After': '5' },
    });
  if (typeof w !== 'function') {
    // It ended (or was forgotten) between the status check and now: say what is known.
    const r = await source.status(sessionId);
    if (r.ok && r.state === 'ended') return c.body(sseEvent(r.ended), 200, headers);
    return brokerProblem(c, 'not_found', 'no such session');
  }
  const unwatch = w;
  const enc = new TextEncoder();
  let heartbeat: NodeJS.Timeout | undefined;
  const finish = () => {
    clearInterval(heartbeat);
    unwatch();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (text: string) => {
        if (open) controller.enqueue(enc.encode(text));
      };
      const end = (e: SessionEndedEvent) => {
        send(sseEvent(e));
        open = false;
        finish();
        controller.close();
      };
      // The reconnect delay for EventSource clients, and a first byte so the client knows it is watching.
      send('retry: 2000\n: watching session\n\n');
      if (early) return end(early);
      deliver = end;
      heartbeat = setInterval(() => send(': keep-alive\n\n'), heartbeatMs);
      heartbeat.unref();
    },
    cancel() {
      finish();
    },
  });
  return c.body(body, 200, headers);
}

function problem(c: Context<Env>, status: number, init: ProblemInit): Response {
  if (status >= 500) c.set('failure', init.detail);
  return problemResponse(status, init);
}

function brokerProblem(c: Context<Env>, code: BrokerErrorCode, detail: string): Response {
  const p = BROKER_PROBLEMS[code];
  const headers: Record<string, string> = {};
  if (p.retryAfter !== undefined) headers['Retry-After'] = String(p.retryAfter);
  return problem(c, p.status, { type: p.type, title: p.title, detail, headers, extensions: { code } });
}
