import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson } from '../nats/codec.js';
import type { TransceiverAnnounce } from '../nats/schemas.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT } from '../nats/subjects.js';
import { NatsServerProcess } from '../testing/nats-server.js';
import { routeIdOf } from '../token/routing-token.js';
import { TransceiverTable } from './transceiver-table.js';
import { watchTransceivers } from './watch-transceivers.js';

const log = pino({ level: 'silent' });

function announce(id: string): TransceiverAnnounce {
  return {
    id,
    routeId: routeIdOf(id),
    cluster: 'local',
    region: 'local',
    address: '127.0.0.1',
    port: 40000,
    sessions: 1,
    capacity: 10,
    draining: false,
    version: 'test',
    sentAt: Date.now(),
  };
}

async function eventually(check: () => void, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('watchTransceivers (real nats-server)', () => {
  let srv: NatsServerProcess;
  let watcherNc: NatsConnection;
  let transceiverNc: NatsConnection;

  beforeAll(async () => {
    srv = await NatsServerProcess.start();
    watcherNc = await connect({ servers: srv.url });
    transceiverNc = await connect({ servers: srv.url });
  });
  afterAll(async () => {
    await watcherNc?.close();
    await transceiverNc?.close();
    await srv?.stop();
  });

  it('asks for announcements on start, fills the table, counts invalid ones, and stops', async () => {
    // A transceiver that answers discovery requests, as real ones do.
    let discovers = 0;
    const sub = transceiverNc.subscribe(DISCOVER_SUBJECT, {
      callback: () => {
        discovers++;
        transceiverNc.publish(ANNOUNCE_SUBJECT, encodeJson(announce('tx-1')));
      },
    });
    await transceiverNc.flush();

    const table = new TransceiverTable(() => performance.now());
    const watch = watchTransceivers(watcherNc, table, log);
    await eventually(() => expect(table.get('tx-1')?.sessions).toBe(1));
    expect(discovers).toBe(1);

    transceiverNc.publish(ANNOUNCE_SUBJECT, encodeJson({ id: 'tx-2', nonsense: true }));
    transceiverNc.publish(ANNOUNCE_SUBJECT, new TextEncoder().encode('not json'));
    // A transceiver from before one-port ICE announces a range and no port: relays could not route to it.
    const { port: _, ...old } = announce('tx-old');
    transceiverNc.publish(ANNOUNCE_SUBJECT, encodeJson({ ...old, portRange: { min: 40000, max: 40009 } }));
    transceiverNc.publish(ANNOUNCE_SUBJECT, encodeJson({ ...announce('tx-port0'), port: 0 }));
    transceiverNc.publish(ANNOUNCE_SUBJECT, encodeJson(announce('tx-3')));
    await eventually(() => expect(table.get('tx-3')).toBeDefined());
    expect(table.get('tx-3')?.port).toBe(40000);
    expect(watch.invalid).toBe(4);
    expect(table.get('tx-2')).toBeUndefined();
    expect(table.get('tx-old')).toBeUndefined();
    expect(table.get('tx-port0')).toBeUndefined();

    watch.stop();
    await watcherNc.flush();
    transceiverNc.publish(ANNOUNCE_SUBJECT, encodeJson(announce('tx-4')));
    await transceiverNc.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(table.get('tx-4')).toBeUndefined();
    sub.unsubscribe();
  });
});
