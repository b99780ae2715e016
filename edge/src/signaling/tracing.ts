import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';

const tracer = trace.getTracer('parley.edge');

/**
 * One server span per signaling request. The NATS request to the transceiver
 * runs inside it, so injectTraceContext() (shared/telemetry/nats-trace)
 * carries it to the transceiver.
 */
export function traceRequests(): MiddlewareHandler {
  return async (c, next) => {
    const parent = propagation.extract(context.active(), c.req.raw.headers, {
      get: (h, k) => h.get(k) ?? undefined,
      keys: (h) => [...h.keys()],
    });
    const span = tracer.startSpan(
      `${c.req.method} ${routeName(c.req.path)}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path } },
      parent,
    );
    await context.with(trace.setSpan(parent, span), async () => {
      try {
        await next();
        span.setAttribute('http.response.status_code', c.res.status);
        if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      } finally {
        span.end();
      }
    });
  };
}

/** Span names must stay low-cardinality: session ids become `:id`. */
function routeName(path: string): string {
  return path.replace(/^\/v1\/sessions\/[^/]+$/, '/v1/sessions/:id');
}
