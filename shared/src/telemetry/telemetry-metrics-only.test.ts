import { isSpanContextValid, metrics, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from './telemetry.js';

describe('startTelemetry({ traces: false })', () => {
  let t: Telemetry | undefined;
  afterAll(async () => {
    await t?.shutdown();
  });

  it('serves runtime and service metrics, and installs no tracer', async () => {
    t = await startTelemetry({
      serviceName: 'parley-test',
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      traces: false,
    });
    // Created after start, as a service does: the global meter provider is the Prometheus one.
    metrics
      .getMeter('parley.test')
      .createCounter('parley_test_restarts', { description: 'test' })
      .add(3, { path: 'x' });
    const text = await (await fetch(t.metricsUrl as string)).text();
    expect(text).toMatch(/^nodejs_eventloop_utilization/m);
    expect(text).toMatch(/^parley_test_restarts_total\{path="x"[^}]*\} 3$/m);
    // No tracer provider was installed (the full SDK was not started): spans stay no-ops.
    const span = trace.getTracer('parley.test').startSpan('x');
    expect(span.isRecording()).toBe(false);
    expect(isSpanContextValid(span.spanContext())).toBe(false);
    span.end();
  });
});
