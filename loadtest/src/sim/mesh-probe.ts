/**
 * Runs inside an edge region's namespace, on its NATS leaf node: for
 * `seconds`, records how old each transceiver announcement is on arrival
 * (the sender stamps `sentAt` from the same machine clock, so the age is the
 * propagation delay through gateways and the leaf) and times NATS request
 * round trips to one transceiver of each cluster (its session-state subject,
 * the path offers take). Prints one JSON object: per cluster, p50 and max.
 * argv[2]: JSON { natsUrl, seconds }.
 */
import { createLogger } from '@parley/shared/log.js';
import { connectNats } from '@parley/shared/nats/connect.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT, sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { percentile, round } from '../call/stats.js';

const { natsUrl, seconds } = JSON.parse(process.argv[2] ?? '{}') as { natsUrl: string; seconds: number };
const nc = await connectNats([natsUrl], 'parley-sim-mesh-probe', createLogger('mesh-probe'));
const ages = new Map<string, number[]>();
const targets = new Map<string, string>();
const rtts = new Map<string, number[]>();
const sub = nc.subscribe(ANNOUNCE_SUBJECT, {
  callback: (_e, msg) => {
    const a = JSON.parse(new TextDecoder().decode(msg.data)) as {
      id: string;
      cluster: string;
      sentAt: number;
    };
    const list = ages.get(a.cluster) ?? [];
    list.push(Date.now() - a.sentAt);
    ages.set(a.cluster, list);
    if (!targets.has(a.cluster)) targets.set(a.cluster, a.id);
  },
});
nc.publish(DISCOVER_SUBJECT);
const end = Date.now() + seconds * 1000;
while (Date.now() < end) {
  await Promise.all(
    [...targets].map(async ([cluster, id]) => {
      const t0 = performance.now();
      try {
        await nc.request(sessionStateSubject(id), JSON.stringify({ sessionId: 'rtt-probe' }), {
          timeout: 2_000,
        });
        const list = rtts.get(cluster) ?? [];
        list.push(performance.now() - t0);
        rtts.set(cluster, list);
      } catch {
        // counted as missing: the sample list stays shorter
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 250));
}
sub.unsubscribe();
const stat = (xs: number[] | undefined) =>
  xs?.length
    ? { p50: round(percentile(xs, 50), 1), max: round(Math.max(...xs), 1), n: xs.length }
    : undefined;
const out = [...new Set([...ages.keys(), ...rtts.keys()])].sort().map((cluster) => ({
  cluster,
  requestRttMs: stat(rtts.get(cluster)),
  announceAgeMs: stat(ages.get(cluster)),
}));
process.stdout.write(`${JSON.stringify(out)}\n`);
await nc.close();
process.exit(0);
