import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import { watchTransceivers } from '@parley/shared/discovery/watch-transceivers.js';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransceiverConfig } from '../src/config.js';
import { startTransceiver } from '../src/transceiver-process.js';

const log = createLogger('test', 'silent');

async function until(cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - start;
}

describe('discovery timing with a real nats-server', () => {
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('makes a new transceiver usable within 2 s and forgets a dead one within 5 s', async () => {
    const table = new TransceiverTable(() => performance.now());
    const watch = watchTransceivers(nc, table, log);
    const icePort = await freeUdpPort();
    const started = performance.now();
    const tx = await startTransceiver(
      loadTransceiverConfig({
        NATS_URL: nats.url,
        PARLEY_TRANSCEIVER_ID: 'tx-timing',
        PARLEY_TOKEN_KEYS: `1:${Buffer.alloc(32, 1).toString('base64')}`,
        PARLEY_ICE_PORT: String(icePort),
      }),
      log,
    );
    await until(() => table.byRouteId(tx.routeId) !== undefined, 2_000);
    expect(performance.now() - started).toBeLessThan(2_000);

    // Announcements stop, as they would if the process died; nothing removes the entry but its age.
    await tx.close();
    const forgotten = await until(() => table.byRouteId(tx.routeId) === undefined, 5_000);
    expect(forgotten).toBeLessThan(5_000);
    // …but not before its entry's time-to-live: a single late announcement does not drop it.
    expect(forgotten).toBeGreaterThan(table.ttlMs - 1_100);
    watch.stop();
  });
});
