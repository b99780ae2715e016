import { type NatsConnection, NoRespondersError, TimeoutError } from '@nats-io/transport-node';
import { metrics } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import type { SessionBroker } from './session-broker.js';

/**
 * The edge's Prometheus metrics (names as scraped):
 * - parley_edge_http_requests_total{route,method,status}
 * - parley_edge_http_request_duration_seconds{route,method} (histogram)
 * - parley_edge_nats_request_duration_seconds{op,outcome} (histogram: offer, close... round trips)
 * - parley_edge_placements_total{outcome} (placed, or the broker's error code)
 * - parley_edge_session_closes_total{outcome}
 * - parley_edge_sessions_ended_total{reason} (ends this edge told its event streams, e.g. transceiver_lost)
 * - parley_edge_tracked_sessions, parley_edge_session_event_streams (gauges)
 * Instruments come from the global meter provider, so they are no-ops until
 * telemetry starts (tests, embedding).
 */
const meter = () => metrics.getMeter('parley.edge');

/** HTTP handling: most requests are answered in well under 50 ms; offers wait for a transceiver. */
const HTTP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** NATS round trips: sub-millisecond on a LAN, seconds only when something is wrong. */
const NATS_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Route labels stay few: session ids and unknown paths (scanners) must not become series. */
export function routeLabel(path: string): string {
  if (path === '/v1/sessions') return '/v1/sessions';
  if (/^\/v1\/sessions\/[^/]+$/.test(path)) return '/v1/sessions/:id';
  if (/^\/v1\/sessions\/[^/]+\/events$/.test(path)) return '/v1/sessions/:id/events';
  if (path === '/healthz' || path === '/livez' || path === '/' || path === '/dev/token') return path;
  if (path.startsWith('/assets/')) return '/assets/*';
  if (path.startsWith('/v1/realtime')) return '/v1/realtime/*';
  return 'other';
}

/** Counts and times every request; goes outermost so refusals by the connection guard count too. */
export function httpMetrics(): MiddlewareHandler {
  const requests = meter().createCounter('parley_edge_http_requests', {
    description: 'HTTP requests answered, by route, method and status',
  });
  const duration = meter().createHistogram('parley_edge_http_request_duration_seconds', {
    description: 'Time from request to response headers, by route and method',
    unit: 's',
    advice: { explicitBucketBoundaries: HTTP_BUCKETS_S },
  });
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = routeLabel(c.req.path);
      const method = c.req.method;
      requests.add(1, { route, method, status: String(c.res.status) });
      duration.record((performance.now() - started) / 1000, { route, method });
    }
  };
}

/** nats.js: a TimeoutError, or a NoRespondersError (alone or as a RequestError's cause). */
export function natsOutcome(err: unknown): 'timeout' | 'no_responders' | 'error' {
  const errs = [err, (err as { cause?: unknown })?.cause];
  if (errs.some((e) => e instanceof TimeoutError)) return 'timeout';
  if (errs.some((e) => e instanceof NoRespondersError)) return 'no_responders';
  return 'error';
}

/**
 * The same connection, with request() timed: the broker's offer and close
 * round trips are measured without the broker knowing. Everything else passes
 * straight through to the real connection.
 */
export function timeNatsRequests(nc: NatsConnection): NatsConnection {
  const duration = meter().createHistogram('parley_edge_nats_request_duration_seconds', {
    description: 'NATS request/reply round trips to transceivers, by operation and outcome',
    unit: 's',
    advice: { explicitBucketBoundaries: NATS_BUCKETS_S },
  });
  const timed: NatsConnection['request'] = async (subject, payload, opts) => {
    // parley.v1.transceiver.<id>.offer -> offer
    const op = subject.slice(subject.lastIndexOf('.') + 1) || 'other';
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await nc.request(subject, payload, opts);
    } catch (err) {
      outcome = natsOutcome(err);
      throw err;
    } finally {
      duration.record((performance.now() - started) / 1000, { op, outcome });
    }
  };
  return new Proxy(nc, {
    get(target, prop) {
      if (prop === 'request') return timed;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Counts what happened to each session placement and hangup. */
export function countPlacements(broker: SessionBroker): SessionBroker {
  const placements = meter().createCounter('parley_edge_placements', {
    description: 'Session placements by outcome: placed, or why not (no_capacity, timeout, ...)',
  });
  const closes = meter().createCounter('parley_edge_session_closes', {
    description: 'Session hangups by outcome',
  });
  const iceRestarts = meter().createCounter('parley_edge_ice_restarts', {
    description: 'WHIP PATCH requests by outcome: restarted, trickle, or why not',
  });
  return {
    async create(req) {
      const r = await broker.create(req);
      placements.add(1, { outcome: r.ok ? 'placed' : r.code });
      return r;
    },
    async close(sessionId) {
      const r = await broker.close(sessionId);
      closes.add(1, { outcome: r.ok ? 'closed' : r.code });
      return r;
    },
    // WHIP PATCH (ICE restart) passes through, counted by outcome.
    ...(broker.restartIce && {
      restartIce: async (req) => {
        const r = await (broker.restartIce as NonNullable<SessionBroker['restartIce']>)(req);
        iceRestarts.add(1, { outcome: r.ok ? (r.sdpfrag ? 'restarted' : 'trickle') : r.code });
        return r;
      },
    }),
  };
}

/**
 * The session registry's view (session-events.ts): ends by reason as they
 * happen, and at scrape time how many sessions are tracked and how many
 * event streams are open. Returns the function that counts an end.
 */
export function sessionEventMetrics(registry: {
  readonly activeCount: number;
  readonly watcherCount: number;
}): (reason: string) => void {
  const ended = meter().createCounter('parley_edge_sessions_ended', {
    description:
      'Session ends this edge learned and told its event streams, by reason (transceiver_lost: the edge saw the transceiver leave discovery)',
  });
  meter()
    .createObservableGauge('parley_edge_tracked_sessions', {
      description: 'Live sessions this edge placed or adopted and watches for their end',
    })
    .addCallback((r) => r.observe(registry.activeCount));
  meter()
    .createObservableGauge('parley_edge_session_event_streams', {
      description: 'Open GET <session URL>/events streams',
    })
    .addCallback((r) => r.observe(registry.watcherCount));
  return (reason) => ended.add(1, { reason });
}
