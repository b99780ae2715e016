import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson } from '../nats/codec.js';
import { sessionStateSubject } from '../nats/subjects.js';
import { NatsServerProcess } from '../testing/nats-server.js';
import { routeIdOf } from '../token/routing-token.js';
import { ClusterRttTable } from './cluster-rtt.js';
import { probeClusterRtt } from './probe-cluster-rtt.js';
import { TransceiverTable } from './transceiver-table.js';

describe('probeClusterRtt (real nats-server)', () => {
  let srv: NatsServerProcess;
  let nc: NatsConnection;
  beforeAll(async () => {
    srv = await NatsServerProcess.start();
    nc = await connect({ servers: srv.url });
  });
  afterAll(async () => {
    await nc?.close();
    await srv?.stop();
  });

  it('times request round trips to a transceiver of each cluster; a silent cluster gets no figure', async () => {
    // A transceiver of "slow" answers its session-state subject after 40 ms; "dead" never answers.
    const responder = await connect({ servers: srv.url });
    responder.subscribe(sessionStateSubject('slow-1'), {
      callback: (_e, msg) => {
        setTimeout(() => msg.respond(encodeJson({ ok: false, code: 'not_found', message: 'no' })), 40);
      },
    });
    await responder.flush();
    const table = new TransceiverTable(() => 0);
    for (const [id, cluster] of [
      ['slow-1', 'slow'],
      ['dead-1', 'dead'],
    ] as const) {
      table.upsert({
        id,
        routeId: routeIdOf(id),
        cluster,
        region: cluster,
        address: '10.0.0.1',
        port: 20000,
        sessions: 0,
        capacity: 1,
        draining: false,
        version: 't',
        sentAt: 0,
      });
    }
    const rtt = new ClusterRttTable(() => performance.now());
    const probe = probeClusterRtt({
      nc,
      table,
      rtt,
      clusters: ['slow', 'dead', 'empty'],
      log: pino({ level: 'silent' }),
      intervalMs: 100,
      timeoutMs: 200,
    });
    try {
      const deadline = Date.now() + 3_000;
      while (rtt.get('slow') === undefined && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const slow = rtt.get('slow') as number;
      expect(slow).toBeGreaterThanOrEqual(40);
      expect(slow).toBeLessThan(400);
      expect(rtt.get('dead')).toBeUndefined();
      expect(rtt.get('empty')).toBeUndefined();
    } finally {
      probe.stop();
      await responder.close();
    }
  });
});
