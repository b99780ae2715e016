import { writeSync } from 'node:fs';
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
  return pino(options, destination ?? stdoutLines());
}

/** How long one line may wait for a full stdout (EAGAIN) before it is dropped. */
const STDOUT_STALL_MS = 50;

/**
 * Synchronous writes to fd 1, like pino's default, but never stuck: a broken
 * pipe (the reader is gone, e.g. a killed `parley dev`) drops every later line,
 * and a full one drops the line after STDOUT_STALL_MS. pino's default
 * destination retries any failed write for ever in its exit-time flush (a
 * broken pipe included), which left processes hung in process.exit().
 */
export function stdoutLines(fd = 1): DestinationStream & { dropped: number } {
  let broken = false;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const out = {
    dropped: 0,
    write(line: string) {
      if (broken) {
        out.dropped++;
        return;
      }
      let buf = Buffer.from(line);
      const until = performance.now() + STDOUT_STALL_MS;
      while (buf.length > 0) {
        try {
          buf = buf.subarray(writeSync(fd, buf));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if ((code === 'EAGAIN' || code === 'EBUSY') && performance.now() < until) {
            Atomics.wait(nap, 0, 0, 1);
            continue;
          }
          if (code !== 'EAGAIN' && code !== 'EBUSY') broken = true;
          out.dropped++;
          return;
        }
      }
    },
  };
  return out;
}
