/**
 * The packages telemetry.ts imports for metrics-only telemetry, in dependency
 * order (each one's own dependencies first, so each step loads a slice).
 */
const METRICS_PACKAGES = [
  '@opentelemetry/api',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/exporter-prometheus',
  '@opentelemetry/instrumentation-runtime-node',
] as const;

/**
 * Loads the metrics SDK's packages one at a time, yielding to the event loop
 * (setImmediate: after the poll phase, so pending socket reads run) between
 * them, then telemetry.ts itself, from the module cache by then. A process
 * already serving (a relay forwarding calls) pays ~230 modules of loading
 * as several short stalls instead of one of ~0.2 s, which a call would hear
 * as a second gap.
 */
export async function loadTelemetryInSteps(): Promise<typeof import('./telemetry.js')> {
  for (const name of METRICS_PACKAGES) {
    await import(name);
    await new Promise<void>((r) => setImmediate(r));
  }
  return import('./telemetry.js');
}
