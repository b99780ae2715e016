import type { MsgHdrs } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
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

/** Starts a client span for a NATS request and returns headers carrying its context (W3C traceparent). */
export function startRequestSpan(name: string, subject: string): { span: Span; headers: MsgHdrs } {
  const span = tracer.startSpan(name, {
    kind: SpanKind.CLIENT,
    attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
  });
  const h = natsHeaders();
  propagation.inject(trace.setSpan(context.active(), span), h, {
    set: (carrier, key, value) => carrier.set(key, value),
  });
  return { span, headers: h };
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
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, contextFromHeaders(h));
  try {
    return await fn(span);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
