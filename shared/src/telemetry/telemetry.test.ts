import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from './telemetry.js';

describe('startTelemetry', () => {
  let t: Telemetry | undefined;
  afterAll(async () => {
    await t?.shutdown();
  });

  it('serves metrics on a free port when asked for port 0, even with the exporter default (9464) taken', async () => {
    // Hold 9464 if nobody else does, so falling back to the default would fail.
    const blocker = createServer();
    await new Promise<void>((r) => {
      blocker.once('error', () => r());
      blocker.listen(9464, '127.0.0.1', () => r());
    });
    try {
      t = await startTelemetry({ serviceName: 'parley-test', metricsPort: 0, metricsHost: '127.0.0.1' });
      const url = new URL(t.metricsUrl as string);
      expect(Number(url.port)).toBeGreaterThan(0);
      expect(url.port).not.toBe('9464');
      const text = await (await fetch(url)).text();
      // Runtime metrics from the first scrape on.
      expect(text).toMatch(/^nodejs_eventloop_utilization/m);
    } finally {
      blocker.close();
    }
  });
});
