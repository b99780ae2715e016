import { connect, type NatsConnection } from '@nats-io/transport-node';
import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import { type TransceiverWatch, watchTransceivers } from '@parley/shared/discovery/watch-transceivers.js';
import { encodeJson } from '@parley/shared/nats/codec.js';
import type { TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT } from '@parley/shared/nats/subjects.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { routeIdOf } from '@parley/shared/token/routing-token.js';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, FAKE_ANSWER, FakeTransceiver } from '../../test/fake-transceiver.js';
import { NatsSessionBroker, type NatsSessionBrokerOptions } from './nats-session-broker.js';

const log = pino({ level: 'silent' });
const RELAY = { ip: '203.0.113.7', port: 3478 };
const OFFER = 'v=0\r\n(the broker does not parse offers)\r\n';
const TIMEOUT_MS = 300;

describe('NatsSessionBroker (real nats-server)', () => {
  let srv: NatsServerProcess;
  let nc: NatsConnection;
  let table: TransceiverTable;
  let watch: TransceiverWatch;
  let fakes: FakeTransceiver[] = [];

  beforeAll(async () => {
    srv = await NatsServerProcess.start();
    nc = await connect({ servers: srv.url });
  });
  afterAll(async () => {
    await nc?.close();
    await srv?.stop();
  });
  afterEach(async () => {
    watch?.stop();
    await Promise.all(fakes.map((f) => f.stop()));
    fakes = [];
  });

  /** A fresh table and broker, and fakes that the table has heard from. */
  async function setup(
    transceivers: { id: string; base?: Partial<TransceiverAnnounce> }[],
    opts: Partial<NatsSessionBrokerOptions> = {},
  ) {
    table = new TransceiverTable(() => performance.now(), 60_000);
    for (const t of transceivers) fakes.push(await FakeTransceiver.start(srv.url, t.id, t.base));
    // Subscribing publishes a discover request; the fakes answer it.
    watch = watchTransceivers(nc, table, log);
    await eventually(() => expect(table.live().length).toBe(transceivers.length));
    const broker = new NatsSessionBroker({
      nc,
      table,
      cluster: 'local',
      relay: RELAY,
      log,
      timeoutMs: TIMEOUT_MS,
      ...opts,
    });
    return { broker, fakes: [...fakes] as FakeTransceiver[] };
  }

  it('places a session and forwards offer, relay, agent, subject and injected headers', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }]);
    const a = fakes[0] as FakeTransceiver;
    const result = await broker.create({
      offer: OFFER,
      agent: 'echo',
      subject: 'user-1',
    });
    expect(result).toEqual({ ok: true, sessionId: expect.any(String), answer: FAKE_ANSWER });
    if (!result.ok) return;
    expect(result.sessionId.startsWith(`${routeIdOf('tx-a')}-`)).toBe(true);
    expect(a.offers).toHaveLength(1);
    expect(a.offers[0]?.request).toEqual({
      sessionId: result.sessionId,
      offer: OFFER,
      relay: RELAY,
      agent: 'echo',
      subject: 'user-1',
    });
  });

  it('lets an injected hook add headers (trace context) to the request', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }], {
      injectHeaders: (h) => h.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
    });
    const result = await broker.create({ offer: OFFER });
    expect(result.ok).toBe(true);
    expect(fakes[0]?.offers[0]?.headers.traceparent).toBe(
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
    expect(fakes[0]?.offers[0]?.request.agent).toBeUndefined();
  });

  it('says no_transceivers when nothing is announced in its cluster', async () => {
    const { broker: empty } = await setup([]);
    expect(await empty.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'no_transceivers' });
    watch.stop();

    const { broker, fakes } = await setup([{ id: 'tx-us', base: { cluster: 'us' } }]);
    expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'no_transceivers' });
    expect(fakes[0]?.offers).toHaveLength(0);
  });

  it('says no_capacity without sending anything when every transceiver is full or draining', async () => {
    const { broker, fakes } = await setup([
      { id: 'tx-full', base: { capacity: 0 } },
      { id: 'tx-drain', base: { draining: true } },
    ]);
    expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'no_capacity' });
    expect(fakes.every((f) => f.offers.length === 0)).toBe(true);
  });

  it('retries once on another transceiver when the first times out, and closes the abandoned session', async () => {
    const { broker, fakes } = await setup([
      { id: 'tx-a', base: { capacity: 100 } },
      { id: 'tx-b', base: { capacity: 10, sessions: 5 } },
    ]);
    const [slow, ok] = fakes as [FakeTransceiver, FakeTransceiver];
    slow.onOffer = () => ({ kind: 'silent' });

    const started = performance.now();
    const result = await broker.create({ offer: OFFER });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(slow.offers).toHaveLength(1);
    expect(ok.offers).toHaveLength(1);
    expect(result.sessionId.startsWith(routeIdOf('tx-b'))).toBe(true);
    // The slow transceiver is told to drop the session it may create late.
    await eventually(() => expect(slow.closes).toEqual([slow.offers[0]?.request.sessionId]));
  });

  it('retries elsewhere on a no_capacity or draining reply', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }, { id: 'tx-b' }, { id: 'tx-c' }]);
    const [a, b, c] = fakes as [FakeTransceiver, FakeTransceiver, FakeTransceiver];
    a.onOffer = () => ({ kind: 'fail', code: 'no_capacity' });
    expect((await broker.create({ offer: OFFER })).ok).toBe(true);
    // a (lowest id) refused, then b (next lowest) answered.
    expect([a.offers.length, b.offers.length, c.offers.length]).toEqual([1, 1, 0]);

    a.onOffer = () => ({ kind: 'fail', code: 'draining' });
    expect((await broker.create({ offer: OFFER })).ok).toBe(true);
    // a refused again; c is now less loaded than b, which holds one session.
    expect([a.offers.length, b.offers.length, c.offers.length]).toEqual([2, 1, 1]);
  });

  it('gives up after one retry and reports the first failure', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }, { id: 'tx-b' }, { id: 'tx-c' }]);
    const [a, b, c] = fakes as [FakeTransceiver, FakeTransceiver, FakeTransceiver];
    a.onOffer = () => ({ kind: 'silent' });
    b.onOffer = () => ({ kind: 'fail', code: 'no_capacity', message: 'full up' });

    const result = await broker.create({ offer: OFFER });
    expect(result).toMatchObject({ ok: false, code: 'timeout' });
    if (result.ok) return;
    expect(result.detail).toContain('full up');
    expect(c.offers).toHaveLength(0);
  });

  it('reports the failure of a lone transceiver instead of "no transceivers"', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }]);
    (fakes[0] as FakeTransceiver).onOffer = () => ({ kind: 'fail', code: 'draining' });
    expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'draining' });
  });

  it('routes around an announced transceiver that has no responder', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-b', base: { sessions: 5 } }]);
    // A transceiver that announced and then died: in the table, but nobody listens.
    const ghost: TransceiverAnnounce = {
      ...(fakes[0] as FakeTransceiver).info(),
      id: 'tx-ghost',
      routeId: routeIdOf('tx-ghost'),
      sessions: 0,
    };
    nc.publish(ANNOUNCE_SUBJECT, encodeJson(ghost));
    await eventually(() => expect(table.get('tx-ghost')).toBeDefined());

    const result = await broker.create({ offer: OFFER });
    expect(result.ok).toBe(true);
    expect(fakes[0]?.offers).toHaveLength(1);
  });

  it('returns bad_offer from the transceiver without retrying', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }, { id: 'tx-b' }]);
    const [a, b] = fakes as [FakeTransceiver, FakeTransceiver];
    a.onOffer = () => ({ kind: 'fail', code: 'bad_offer', message: 'no common codec' });
    expect(await broker.create({ offer: OFFER })).toEqual({
      ok: false,
      code: 'bad_offer',
      detail: 'no common codec',
    });
    expect(b.offers).toHaveLength(0);
  });

  it('turns malformed replies into transceiver_error and keeps working', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }]);
    const a = fakes[0] as FakeTransceiver;
    const enc = new TextEncoder();
    for (const data of [enc.encode('not json'), enc.encode('{"ok":true}'), enc.encode('{"ok":"maybe"}')]) {
      a.onOffer = () => ({ kind: 'raw', data });
      expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'transceiver_error' });
    }
    a.onOffer = (req) => ({
      kind: 'raw',
      data: encodeJson({ ok: true, sessionId: `${req.sessionId}x`, answer: 'v=0' }),
    });
    expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'transceiver_error' });
    a.onOffer = () => ({ kind: 'fail', code: 'internal', message: 'werift exploded' });
    expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'transceiver_error' });

    a.onOffer = () => ({ kind: 'answer' });
    expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: true });
  });

  it('closes a session on the transceiver named by its id, then reports not_found', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }, { id: 'tx-b' }]);
    const [a, b] = fakes as [FakeTransceiver, FakeTransceiver];
    b.state = { sessions: 3 }; // so the session lands on a
    a.announce();
    b.announce();
    await eventually(() => expect(table.get('tx-b')?.sessions).toBe(3));
    const created = await broker.create({ offer: OFFER });
    if (!created.ok) throw new Error(created.detail);
    expect(a.sessions.has(created.sessionId)).toBe(true);

    expect(await broker.close(created.sessionId)).toEqual({ ok: true });
    expect(a.sessions.size).toBe(0);
    expect(b.closes).toEqual([]);
    expect(await broker.close(created.sessionId)).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('says not_found for malformed ids and for sessions of unknown transceivers', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }]);
    expect(await broker.close('nope')).toMatchObject({ ok: false, code: 'not_found' });
    expect(await broker.close(newSessionId(routeIdOf('tx-gone')))).toMatchObject({
      ok: false,
      code: 'not_found',
    });
    expect(fakes[0]?.closes).toEqual([]);
  });

  it('spreads a burst across transceivers before their announcements catch up', async () => {
    const { broker, fakes } = await setup([{ id: 'tx-a' }, { id: 'tx-b' }]);
    const [a, b] = fakes as [FakeTransceiver, FakeTransceiver];

    // Concurrent: in-flight requests count as load.
    await Promise.all([1, 2, 3, 4].map(() => broker.create({ offer: OFFER })));
    expect([a.offers.length, b.offers.length]).toEqual([2, 2]);
    // Sequential, with no announcement in between: placed sessions still count.
    for (let i = 0; i < 2; i++) expect((await broker.create({ offer: OFFER })).ok).toBe(true);
    expect([a.offers.length, b.offers.length]).toEqual([3, 3]);

    // a's next announcement counts its 3 sessions, so its pending count is
    // dropped, not added on top: a is 3/10 and b (0 announced + 3 pending)
    // is 3/10; the tie goes to a. Counting a twice would pick b.
    a.announce();
    await eventually(() => expect(table.get('tx-a')?.sessions).toBe(3));
    expect((await broker.create({ offer: OFFER })).ok).toBe(true);
    expect([a.offers.length, b.offers.length]).toEqual([4, 3]);
  });

  describe('across clusters', () => {
    const CLUSTERS = [
      { name: 'far', fallbackRttMs: 90 },
      { name: 'near', fallbackRttMs: 10 },
    ];

    it('places in the nearest cluster, then the next when the nearest is dead (no responders), at once', async () => {
      const { broker, fakes } = await setup(
        [
          { id: 'near-1', base: { cluster: 'near' } },
          { id: 'far-1', base: { cluster: 'far', sessions: 9 } },
        ],
        { clusters: CLUSTERS },
      );
      const [near, far] = fakes as [FakeTransceiver, FakeTransceiver];
      expect((await broker.create({ offer: OFFER })).ok).toBe(true);
      expect([near.offers.length, far.offers.length]).toEqual([1, 0]);

      // The whole near cluster dies: its announcement is still in the table,
      // two ghosts of it too, and nobody answers for any of them.
      for (const id of ['near-2', 'near-3']) {
        nc.publish(ANNOUNCE_SUBJECT, encodeJson({ ...near.info(), id, routeId: routeIdOf(id), sessions: 0 }));
      }
      await eventually(() => expect(table.get('near-3')).toBeDefined());
      await near.stop();
      const started = performance.now();
      const result = await broker.create({ offer: OFFER });
      expect(result.ok).toBe(true);
      expect(far.offers).toHaveLength(1);
      // No responders is immediate: far below one offer timeout.
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    });

    it('overflows to the next cluster when the nearest is full, and says no_capacity when all are', async () => {
      const { broker, fakes } = await setup(
        [
          { id: 'near-1', base: { cluster: 'near', capacity: 1 } },
          { id: 'far-1', base: { cluster: 'far', capacity: 1 } },
        ],
        { clusters: CLUSTERS },
      );
      const [near, far] = fakes as [FakeTransceiver, FakeTransceiver];
      expect((await broker.create({ offer: OFFER })).ok).toBe(true);
      expect((await broker.create({ offer: OFFER })).ok).toBe(true);
      expect([near.offers.length, far.offers.length]).toEqual([1, 1]);
      expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'no_capacity' });
    });

    it('follows the measured RTT over the configured one, and the geo hint over both', async () => {
      const { ClusterRttTable } = await import('@parley/shared/discovery/cluster-rtt.js');
      const rtt = new ClusterRttTable(() => performance.now());
      rtt.record('far', 5);
      const { broker, fakes } = await setup(
        [
          { id: 'near-1', base: { cluster: 'near' } },
          { id: 'far-1', base: { cluster: 'far' } },
        ],
        { clusters: CLUSTERS, rtt, geoHints: new Map([['EU', 'near']]) },
      );
      const [near, far] = fakes as [FakeTransceiver, FakeTransceiver];
      expect((await broker.create({ offer: OFFER })).ok).toBe(true);
      expect([near.offers.length, far.offers.length]).toEqual([0, 1]);
      expect((await broker.create({ offer: OFFER, geoHint: 'eu' })).ok).toBe(true);
      expect([near.offers.length, far.offers.length]).toEqual([1, 1]);
      // A hint the deployment does not map changes nothing.
      expect((await broker.create({ offer: OFFER, geoHint: 'XX' })).ok).toBe(true);
      expect([near.offers.length, far.offers.length]).toEqual([1, 2]);
    });

    it('answers unavailable at once while NATS is disconnected, sending nothing', async () => {
      let connected = true;
      const { broker, fakes } = await setup([{ id: 'near-1', base: { cluster: 'near' } }], {
        clusters: CLUSTERS,
        isConnected: () => connected,
      });
      connected = false;
      const started = performance.now();
      expect(await broker.create({ offer: OFFER })).toMatchObject({ ok: false, code: 'unavailable' });
      expect(performance.now() - started).toBeLessThan(20);
      expect(fakes[0]?.offers).toHaveLength(0);
    });
  });
});
