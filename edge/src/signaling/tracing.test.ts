import { readFileSync } from 'node:fs';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { injectTraceContext } from '@parley/shared/telemetry/nats-trace.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, FakeTransceiver } from '../../test/fake-transceiver.js';
import { mintDevToken } from './auth.js';
import { loadSignalingConfig } from './config.js';
import { type SignalingServer, startSignalingServer } from './server.js';
import { traceRequests } from './tracing.js';

const SECRET = 'tracing-test-secret-with-at-least-32-chars';
const OFFER = readFileSync(new URL('./__fixtures__/werift-offer.sdp', import.meta.url), 'utf8');

describe('signaling traces', () => {
  const exporter = new InMemorySpanExporter();
  let nats: NatsServerProcess;
  let server: SignalingServer;
  let fake: FakeTransceiver;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
    nats = await NatsServerProcess.start();
    fake = await FakeTransceiver.start(nats.url, 'tx-trace');
    const config = loadSignalingConfig({
      PARLEY_HTTP_HOST: '127.0.0.1',
      PARLEY_HTTP_PORT: '0',
      PARLEY_RELAY_ADVERTISE: '192.0.2.10:3478',
      PARLEY_AUTH_JWT_SECRET: SECRET,
      NATS_URL: nats.url,
    });
    server = await startSignalingServer(config, {
      log: pino({ level: 'silent' }),
      injectHeaders: injectTraceContext,
      middleware: [traceRequests()],
    });
    fake.announce();
    await eventually(async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200));
  });
  afterAll(async () => {
    await server?.close();
    await fake?.stop();
    await nats?.stop();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('records a server span per request and carries its trace to the transceiver in NATS headers', async () => {
    const res = await fetch(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/sdp',
        authorization: `Bearer ${await mintDevToken(SECRET, { subject: 't' })}`,
      },
      body: OFFER,
    });
    expect(res.status).toBe(201);
    // SDK 3.x: SimpleSpanProcessor exports each ended span asynchronously (after a microtask or two).
    const finished = () => exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/sessions');
    await eventually(() => expect(finished()).toBeDefined());
    const span = finished();
    expect(span?.attributes['http.response.status_code']).toBe(201);
    const traceparent = fake.offers.at(-1)?.headers.traceparent;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(traceparent?.split('-')[1]).toBe(span?.spanContext().traceId);
  });
});
