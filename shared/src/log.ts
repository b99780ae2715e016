import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * The active span's ids on every line logged inside it (OpenTelemetry's log
 * correlation field names), so a log search can jump to the trace and back.
 * Outside a span, or with no tracer provider, nothing is added.
 */
export function traceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return {
    trace_id: sc.traceId,
    span_id: sc.spanId,
    trace_flags: `0${sc.traceFlags.toString(16)}`.slice(-2),
  };
}

/** JSON logs on stdout, one logger per process, tagged with the process name and the active trace. */
export function createLogger(
  name: string,
  level: string = process.env.PARLEY_LOG_LEVEL ?? 'info',
  /** Where lines go (stdout by default; tests pass a stream). */
  destination?: DestinationStream,
): Logger {
  const options = { name, level, base: { pid: process.pid }, mixin: traceFields };
  return destination ? pino(options, destination) : pino(options);
}
