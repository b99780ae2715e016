import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import {
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { freeTcpPort } from '../net/free-port.js';

export interface TelemetryOptions {
  serviceName: string;
  /** Prometheus scrape port; 0 picks a free one, undefined disables the endpoint. */
  metricsPort?: number;
  metricsHost?: string;
  /**
   * false: metrics only, for a process that makes no spans (the relay). The
   * full SDK (@opentelemetry/sdk-node) is then never loaded: it brings every
   * OTLP, gRPC and Zipkin exporter and the logs SDK, ~600 modules and
   * ~0.25 s of start-up that a restarted relay would spend with its calls
   * silent. Default true.
   */
  traces?: boolean;
}

export interface Telemetry {
  /** Where Prometheus can scrape this process, when enabled. */
  metricsUrl?: string;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK. Call it before anything else in a process so
 * the global tracer and meter providers exist when services create their
 * instruments.
 *
 * Metrics: a Prometheus scrape endpoint per process. Traces: exported over
 * OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) is
 * set, so a dev stack does not spend time retrying a collector that is not there.
 */
/** Resolution of the event-loop delay histogram the runtime metrics read. */
const RUNTIME_PRECISION_MS = 10;

/** Spans get trace and span ids (for logs) and go nowhere. */
const idsOnly: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

export async function startTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  if (!process.env.OTEL_TRACES_EXPORTER) {
    process.env.OTEL_TRACES_EXPORTER =
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        ? 'otlp'
        : 'none';
  }
  // Metrics go to Prometheus below; do not also push them over OTLP by default.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';

  let exporter: PrometheusExporter | undefined;
  let metricsUrl: string | undefined;
  if (opts.metricsPort !== undefined) {
    const host = opts.metricsHost ?? '0.0.0.0';
    // The exporter reads port 0 as "unset" and binds its default 9464: pick a free port instead.
    const askedPort = opts.metricsPort === 0 ? await freeTcpPort(host) : opts.metricsPort;
    exporter = await new Promise<PrometheusExporter>((resolve, reject) => {
      const e = new PrometheusExporter({ port: askedPort, host }, (err) => (err ? reject(err) : resolve(e)));
    });
    // The exporter's server knows the real port when 0 was asked for.
    const server = (exporter as unknown as { _server?: import('node:http').Server })._server;
    const addr = server?.address();
    const port = typeof addr === 'object' && addr ? addr.port : askedPort;
    metricsUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`;
  }

  const resource = resourceFromAttributes({
    'service.name': opts.serviceName,
    'service.namespace': 'parley',
  });
  if (opts.traces === false) return startMetricsOnly(resource, exporter, metricsUrl);

  // Imported here: only processes that trace pay for loading the full SDK.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    resource,
    ...(exporter ? { metricReaders: [exporter] } : {}),
    // Event-loop delay and utilization, GC durations by kind, heap spaces: nodejs_* and v8js_* metrics.
    instrumentations: [new RuntimeNodeInstrumentation({ monitoringPrecision: RUNTIME_PRECISION_MS })],
    // Without an exporter the SDK would install no tracer provider, spans would carry no ids, and
    // logs no trace_id: a processor that keeps nothing gives ids at the cost of creating spans.
    ...(process.env.OTEL_TRACES_EXPORTER === 'none' && { spanProcessors: [idsOnly] }),
  });
  sdk.start();
  return { metricsUrl, shutdown: () => sdk.shutdown() };
}

/**
 * What NodeSDK.start() does for metrics, without the SDK: the same resource
 * detectors, a meter provider with the Prometheus reader registered
 * globally (before the services create their instruments), and the runtime
 * metrics. Spans stay on the API's no-op tracer.
 */
function startMetricsOnly(
  base: ReturnType<typeof resourceFromAttributes>,
  exporter: PrometheusExporter | undefined,
  metricsUrl: string | undefined,
): Telemetry {
  const resource = base.merge(
    detectResources({
      detectors: [serviceInstanceIdDetector, processDetector, hostDetector, osDetector, envDetector],
    }),
  );
  const meterProvider = new MeterProvider({ resource, readers: exporter ? [exporter] : [] });
  metrics.setGlobalMeterProvider(meterProvider);
  // Built after the global provider is set: its meter comes from it.
  const runtime = new RuntimeNodeInstrumentation({ monitoringPrecision: RUNTIME_PRECISION_MS });
  runtime.setMeterProvider(meterProvider);
  return {
    metricsUrl,
    shutdown: async () => {
      runtime.disable();
      await meterProvider.shutdown();
    },
  };
}
