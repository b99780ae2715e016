import { Agent, request } from 'node:http';
import { LatencyHistogram } from '../../load/latency-histogram.js';

export interface HttpLoadResult {
  concurrency: number;
  created: number;
  errors: Record<string, number>;
  elapsedMs: number;
  createsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  /** This process's CPU over the run, as a share of one core. */
  clientCpuShare: number;
}

/**
 * Closed-loop session creation: `concurrency` workers each POST the offer
 * and, on 201, POST again, for `durationMs`. Keep-alive connections, so the
 * edge's cost per request is what is measured, not TCP handshakes.
 */
export async function createSessionsClosedLoop(o: {
  edgeUrl: string;
  token: string;
  offer: string;
  concurrency: number;
  durationMs: number;
}): Promise<HttpLoadResult> {
  const url = new URL('/v1/sessions', o.edgeUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const body = Buffer.from(o.offer);
  const headers = {
    'content-type': 'application/sdp',
    'content-length': String(body.length),
    authorization: `Bearer ${o.token}`,
  };
  const latency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let created = 0;
  const post = () =>
    new Promise<number>((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      // 0 stands for a network error (refused, reset): no HTTP status at all.
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const status = await post();
        if (status === 201) {
          created++;
          latency.record(performance.now() - s);
        } else {
          const key = status === 0 ? 'network' : String(status);
          errors[key] = (errors[key] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return {
    concurrency: o.concurrency,
    created,
    errors,
    elapsedMs: Math.round(elapsedMs),
    createsPerSecond: Math.round((created * 1000) / elapsedMs),
    latencyMs: { p50: round(latency.percentile(50)), p99: round(latency.percentile(99)) },
    clientCpuShare: round((cpu.user + cpu.system) / 1000 / elapsedMs),
  };
}

function round(n: number): number {
  return Number.isFinite(n) ? Math.round(n * 100) / 100 : Number.NaN;
}
