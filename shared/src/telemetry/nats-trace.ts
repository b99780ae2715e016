import type { MsgHdrs } from '@nats-io/transport-node';
import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const tracer = trace.getTracer('parley.nats');

/** Puts the active trace context (W3C traceparent) into a NATS request's headers. */
export function injectTraceContext(h: MsgHdrs): void {
  propagation.inject(context.active(), h, { set: (carrier, key, value) => carrier.set(key, value) });
}

/** The remote parent context a request carried, for the server-side span. */
export function contextFromHeaders(h: MsgHdrs | undefined): Context {
  if (!h) return context.active();
  return propagation.extract(context.active(), h, {
    get: (carrier, key) => carrier.get(key) || undefined,
    keys: (carrier) => carrier.keys(),
  });
}

/** Runs `fn` inside a server span that continues the caller's trace. */
export async function withServerSpan<T>(
  name: string,
  h: MsgHdrs | undefined,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = contextFromHeaders(h);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
  try {
    // Active, so the work's own spans are its children and its log lines carry its ids.
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
