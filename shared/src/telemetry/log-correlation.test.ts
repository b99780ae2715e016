import { headers } from '@nats-io/transport-node';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { injectTraceContext, withServerSpan } from './nats-trace.js';

describe('trace ids in log lines', () => {
  const exporter = new InMemorySpanExporter();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('corr', 'info', {
    write: (s: string) => {
      lines.push(JSON.parse(s));
    },
  });
  let manager: AsyncLocalStorageContextManager;

  beforeAll(() => {
    manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
  });
  afterAll(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('adds trace_id, span_id and trace_flags inside an active span, across awaits, and nothing outside', async () => {
    const tracer = trace.getTracer('test');
    let ids: { traceId: string; spanId: string } | undefined;
    await tracer.startActiveSpan('work', async (span) => {
      ids = span.spanContext();
      await new Promise((r) => setTimeout(r, 5));
      log.info('inside');
      span.end();
    });
    log.info('outside');
    expect(lines.find((l) => l.msg === 'inside')).toMatchObject({
      trace_id: ids?.traceId,
      span_id: ids?.spanId,
      trace_flags: '01',
    });
    expect(lines.find((l) => l.msg === 'outside')).not.toHaveProperty('trace_id');
  });

  it('a NATS server span is active while it runs: its logs carry the caller trace and its own span', async () => {
    const tracer = trace.getTracer('test');
    const h = headers();
    let callerTrace = '';
    tracer.startActiveSpan('caller', (span) => {
      callerTrace = span.spanContext().traceId;
      injectTraceContext(h);
      span.end();
    });
    let serverSpanId = '';
    await withServerSpan('transceiver.offer', h, async (span) => {
      serverSpanId = span.spanContext().spanId;
      await Promise.resolve();
      log.info('handling offer');
    });
    expect(lines.find((l) => l.msg === 'handling offer')).toMatchObject({
      trace_id: callerTrace,
      span_id: serverSpanId,
    });
  });
});
