import { connect, type NatsConnection } from '@nats-io/transport-node';
import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import {
  CloseRequest,
  type SessionInfoReply,
  type TransceiverAnnounce,
} from '@parley/shared/nats/schemas.js';
import { SESSION_REVOKED_SUBJECT, sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { routeIdOf } from '@parley/shared/token/routing-token.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/fake-transceiver.js';
import { SessionEvents } from './session-events.js';
import { SessionRegistry, TRANSCEIVER_LOST } from './session-registry.js';

const log = pino({ level: 'silent' });

function announce(id: string, cluster = 'core-a'): TransceiverAnnounce {
  return {
    id,
    routeId: routeIdOf(id),
    cluster,
    region: cluster,
    address: '10.0.0.1',
    port: 20000,
    sessions: 0,
    capacity: 10,
    draining: false,
    version: 'test',
    sentAt: 0,
  };
}

// The I/O shell around the registry, against a real nats-server; discovery on a fake clock.
describe('SessionEvents (real nats-server)', () => {
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

  function setup(opts: { discoveryLive?: () => boolean } = {}) {
    let now = 0;
    const clock = () => now;
    const table = new TransceiverTable(clock);
    const registry = new SessionRegistry(clock);
    const events = new SessionEvents({
      nc,
      table,
      registry,
      log,
      clock,
      isDiscoveryLive: opts.discoveryLive ?? (() => true),
      // Ticks are driven by the test.
      tickMs: 3_600_000,
      timeoutMs: 500,
    });
    events.start();
    return { table, registry, events, advance: (ms: number) => (now += ms) };
  }

  it('ends a session on a revocation that says ended, and not on a token retired by an ICE restart', async () => {
    const { registry, events } = setup();
    try {
      const id = newSessionId(routeIdOf('tx-1'));
      const sentinel = newSessionId(routeIdOf('tx-1'));
      events.placed({ sessionId: id, transceiverId: 'tx-1', cluster: 'core-a', answer: 'v=0\r\n' });
      events.placed({ sessionId: sentinel, transceiverId: 'tx-1', cluster: 'core-a', answer: 'v=0\r\n' });
      nc.publish(SESSION_REVOKED_SUBJECT, encodeJson({ token: 'old-ufrag-token', sessionId: id }));
      nc.publish(SESSION_REVOKED_SUBJECT, encodeJson({ nonsense: true }));
      // NATS keeps one publisher's order: once the sentinel's end is in, the two above were handled.
      nc.publish(SESSION_REVOKED_SUBJECT, encodeJson({ token: 'x', sessionId: sentinel, ended: 'deleted' }));
      await eventually(() => expect(registry.status(sentinel)?.state).toBe('ended'));
      expect(registry.status(id)?.state).toBe('active');
      nc.publish(
        SESSION_REVOKED_SUBJECT,
        encodeJson({ token: 'new-token', sessionId: id, ended: 'consent_lost' }),
      );
      await eventually(() =>
        expect(registry.status(id)).toMatchObject({ ended: { reason: 'consent_lost' } }),
      );
    } finally {
      events.stop();
    }
  });

  it('ends sessions whose transceiver left discovery, only while discovery is trustworthy', async () => {
    let live = false;
    const { table, registry, events, advance } = setup({ discoveryLive: () => live });
    try {
      table.upsert(announce('tx-a'));
      table.upsert(announce('tx-b', 'core-b'));
      const a = newSessionId(routeIdOf('tx-a'));
      const b = newSessionId(routeIdOf('tx-b'));
      events.placed({ sessionId: a, transceiverId: 'tx-a', cluster: 'core-a', answer: '' });
      events.placed({ sessionId: b, transceiverId: 'tx-b', cluster: 'core-b', answer: '' });
      advance(3_000);
      table.upsert(announce('tx-b', 'core-b'));
      advance(1_000);
      // tx-a is 4 s silent (TTL 3.5 s), but this edge's own NATS is not trusted yet.
      events.tick();
      expect(registry.status(a)?.state).toBe('active');
      live = true;
      events.tick();
      expect(registry.status(a)).toMatchObject({
        state: 'ended',
        ended: { reason: TRANSCEIVER_LOST, t: 4_000 },
      });
      expect(registry.status(b)?.state).toBe('active');
    } finally {
      events.stop();
    }
  });

  it('adopts a session another edge placed by asking its transceiver, and refuses unknown ones', async () => {
    const { table, registry, events } = setup();
    const states = new Map<string, SessionInfoReply>();
    const sub = nc.subscribe(sessionStateSubject('tx-c'), {
      callback: (_e, m) => {
        const { sessionId } = decodeJson(CloseRequest, m.data);
        m.respond(
          encodeJson(states.get(sessionId) ?? { ok: false, code: 'not_found', message: 'no such session' }),
        );
      },
    });
    try {
      await nc.flush();
      table.upsert(announce('tx-c', 'core-c'));
      const live = newSessionId(routeIdOf('tx-c'));
      const closed = newSessionId(routeIdOf('tx-c'));
      states.set(live, {
        ok: true,
        sessionId: live,
        state: 'connected',
        port: 1,
        packetsIn: 0,
        packetsOut: 0,
      });
      states.set(closed, {
        ok: true,
        sessionId: closed,
        state: 'closed',
        port: 1,
        packetsIn: 0,
        packetsOut: 0,
      });
      expect(await events.status(live)).toEqual({ ok: true, state: 'active', cluster: 'core-c' });
      expect(registry.status(live)?.transceiverId).toBe('tx-c');
      expect(await events.status(closed)).toMatchObject({ ok: false, code: 'not_found' });
      expect(await events.status(newSessionId(routeIdOf('tx-c')))).toMatchObject({
        ok: false,
        code: 'not_found',
      });
      // A transceiver discovery does not know: gone with it, as for DELETE.
      expect(await events.status(newSessionId(routeIdOf('tx-unknown')))).toMatchObject({
        ok: false,
        code: 'not_found',
      });
      expect(await events.status('not-a-session-id')).toMatchObject({ ok: false, code: 'not_found' });
      // Known to discovery, but nothing answers on NATS.
      table.upsert(announce('tx-d', 'core-d'));
      expect(await events.status(newSessionId(routeIdOf('tx-d')))).toMatchObject({
        ok: false,
        code: 'unavailable',
      });
    } finally {
      sub.unsubscribe();
      events.stop();
    }
  });
});
