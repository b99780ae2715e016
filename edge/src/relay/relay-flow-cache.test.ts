import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { encodeToken, makeKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlowCache, type FlowCacheStore, MemoryFlowCacheStore } from './flow-cache.js';
import { kvKey, openKvFlowCacheStore } from './flow-cache-kv.js';
import { type Relay, type RelayIo, type RelayOptions, startRelay } from './relay.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

/** Each case runs on both UDP I/O paths: the native addon (recvmmsg/sendmmsg) and node:dgram. */
const IO_PATHS = ['native', 'dgram'] as const satisfies readonly RelayIo[];
let io: RelayIo = 'native';

const log = createLogger('relay-flow-cache-test', 'silent');
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
const ROUTE = routeIdOf('tx-cache');
const QUIET_MS = 150;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function peer(): Promise<UdpPeer> {
  const p = await UdpPeer.bind('127.0.0.1', 0);
  cleanups.push(() => p.close());
  return p;
}

/** A version 3 token: it carries the transceiver address, so a relay with no discovery can use it. */
function token(txPort: number, expiresAt = Math.floor(Date.now() / 1000) + 600, kr = keyring): string {
  return encodeToken(kr, { routeId: ROUTE, expiresAt, target: { address: '127.0.0.1', port: txPort } });
}

const rtp = (i: number) => Buffer.concat([Buffer.from([0x80, 0x6f, 0, i & 0xff]), randomBytes(40)]);

async function relayOn(
  port: number,
  store: FlowCacheStore,
  over: Partial<RelayOptions> = {},
): Promise<{ relay: Relay; cache: FlowCache }> {
  const cache = new FlowCache({ store, ttlMs: 30_000 });
  const relay = await startRelay({
    host: '127.0.0.1',
    port,
    upstreamHost: '127.0.0.1',
    keyring,
    // No discovery (a relay just restarted): the token's signed address is the target.
    resolveRoute: () => undefined,
    useSignedTarget: () => true,
    log,
    flowCache: cache,
    io,
    ...over,
  });
  cleanups.push(() => relay.close());
  return { relay, cache };
}

describe.each(IO_PATHS)(
  'relay flow recovery from the shared flow cache (in-memory store, real sockets) (%s I/O)',
  (path) => {
    beforeAll(() => {
      io = path;
    });

    it('a successor relay on the same port forwards a known client SRTP, the one that started the lookup first, from a new upstream port', async () => {
      const store = new MemoryFlowCacheStore(30_000);
      const tx = await peer();
      const client = await peer();
      const port = await freeUdpPort();
      const first = await relayOn(port, store);
      const tok = token(tx.port);
      await client.send(buildBindingRequest({ username: `${tok}:Cli1`, password: 'x'.repeat(22) }), port);
      await tx.waitFor(1);
      const oldUpstream = tx.received[0]?.port;
      await sleep(20);
      // The flow's token is in the cache under the client's address as the relay saw it.
      expect(await store.get(`127.0.0.1:${client.port}`)).toBe(tok);

      await first.relay.close(); // like a crash: close() keeps cache entries
      expect(await store.get(`127.0.0.1:${client.port}`)).toBe(tok);
      const next = await relayOn(port, store);
      // Held while the lookup runs, and forwarded once the flow is rebuilt.
      await client.send(rtp(1), port);
      await tx.waitFor(2);
      expect(tx.received[1]?.msg[3]).toBe(1);
      expect(tx.received[1]?.port).not.toBe(oldUpstream);
      await client.send(rtp(2), port);
      await tx.waitFor(3);
      expect(tx.received[2]?.msg[3]).toBe(2);
      expect(tx.received[2]?.port).toBe(tx.received[1]?.port);
      expect(next.cache.counters).toMatchObject({ lookups: 1, hits: 1, recovered: 1 });
      // It found no flow when it arrived (the counter operators read for unknown traffic).
      expect(next.relay.counters.snapshot().drops.no_flow_rtp).toBe(1);
      // Replies go back to the client through the rebuilt flow.
      await tx.send(rtp(3), tx.received[1]?.port as number);
      await client.waitFor(1);
    });

    it("a lookup superseded by a flow opened meanwhile (a handover's flow table) still forwards the datagram it held", async () => {
      const store = new MemoryFlowCacheStore(30_000);
      const tx = await peer();
      const client = await peer();
      const port = await freeUdpPort();
      const tok = token(tx.port);
      const key = `127.0.0.1:${client.port}`;
      await store.put(key, tok);
      // The lookup answers only once the test lets it, after the flow exists.
      let answer: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        answer = r;
      });
      const slow: FlowCacheStore = {
        put: (c, t) => store.put(c, t),
        touch: (c, t) => store.touch(c, t),
        delete: (c) => store.delete(c),
        get: (c) => gate.then(() => store.get(c)),
        close: async () => undefined,
      };
      const { relay, cache } = await relayOn(port, slow);
      await client.send(rtp(1), port);
      const deadline = Date.now() + 2_000;
      while (cache.counters.lookups < 1 && Date.now() < deadline) await sleep(5);
      expect(relay.importFlows([{ address: '127.0.0.1', port: client.port, token: tok }])).toBe(1);
      answer();
      await tx.waitFor(1);
      expect(tx.received[0]?.msg[3]).toBe(1);
      expect(cache.counters).toMatchObject({ lookups: 1, superseded: 1, recovered: 0 });
      expect(relay.counters.packetsUp).toBe(1);
    });

    it('a forged, expired or foreign-key token in the cache opens nothing, and is counted', async () => {
      const store = new MemoryFlowCacheStore(30_000);
      const tx = await peer();
      const port = await freeUdpPort();
      const { relay, cache } = await relayOn(port, store);
      const clients = [await peer(), await peer(), await peer()];
      const good = token(tx.port);
      const forged = `${good.slice(0, -4)}${good.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      const expired = token(tx.port, Math.floor(Date.now() / 1000) - 5);
      const foreign = token(tx.port, undefined, makeKeyring([{ id: 1, secret: randomBytes(32) }]));
      const entries = [forged, expired, foreign];
      for (const [i, c] of clients.entries()) await store.put(`127.0.0.1:${c.port}`, entries[i] as string);
      for (let round = 0; round < 3; round++) {
        for (const c of clients) await c.send(rtp(round), port);
        await sleep(30);
      }
      await sleep(QUIET_MS);
      expect(tx.received).toHaveLength(0);
      expect(relay.flows).toBe(0);
      // One lookup per address; the rejected entry is then remembered like a miss.
      expect(cache.counters).toMatchObject({
        lookups: 3,
        hits: 3,
        rejected: 3,
        recovered: 0,
        negativeHits: 6,
      });
      const drops = relay.counters.snapshot().drops;
      expect(drops.token_expired).toBe(1);
      expect(drops.token_bad_signature + drops.token_unknown_key).toBe(2);
    });

    it('a revoked token in the cache opens nothing; a flood of random sources costs one lookup each', async () => {
      const store = new MemoryFlowCacheStore(30_000);
      const tx = await peer();
      const port = await freeUdpPort();
      const { relay, cache } = await relayOn(port, store);
      const client = await peer();
      const tok = token(tx.port);
      await store.put(`127.0.0.1:${client.port}`, tok);
      expect(relay.revoke(tok)).toBe(true);
      await client.send(rtp(1), port);
      await sleep(30);
      expect(relay.counters.snapshot().drops.token_revoked).toBe(1);

      const flood = await Promise.all(Array.from({ length: 20 }, () => peer()));
      for (let round = 0; round < 5; round++) for (const f of flood) await f.send(rtp(round), port);
      await sleep(QUIET_MS);
      expect(tx.received).toHaveLength(0);
      expect(relay.flows).toBe(0);
      expect(cache.counters.lookups).toBe(21);
      expect(cache.counters.misses).toBe(20);
      expect(cache.counters.negativeHits + cache.counters.lookupPending).toBe(80);

      // Neither DTLS nor RTP (RFC 7983 ranges): junk costs no lookup at all.
      const junk = await peer();
      for (const first of [5, 70, 200]) await junk.send(Buffer.from([first, ...randomBytes(30)]), port);
      await sleep(30);
      expect(cache.counters.lookups).toBe(21);
      expect(relay.counters.snapshot().drops.no_flow_unknown).toBe(3);
    });

    it('deletes the entry when a flow is revoked, and keeps it when the relay shuts down', async () => {
      const store = new MemoryFlowCacheStore(30_000);
      const tx = await peer();
      const port = await freeUdpPort();
      const { relay } = await relayOn(port, store);
      const a = await peer();
      const b = await peer();
      const ta = token(tx.port);
      const tb = token(tx.port);
      await a.send(buildBindingRequest({ username: `${ta}:Cli1`, password: 'x'.repeat(22) }), port);
      await b.send(buildBindingRequest({ username: `${tb}:Cli1`, password: 'x'.repeat(22) }), port);
      await tx.waitFor(2);
      await sleep(20);
      expect(store.entries.size).toBe(2);
      relay.revoke(ta);
      await sleep(20);
      expect(await store.get(`127.0.0.1:${a.port}`)).toBeUndefined();
      await relay.close();
      expect(await store.get(`127.0.0.1:${b.port}`)).toBe(tb);
    });
  },
);

describe('JetStream KV flow cache store against a real nats-server', () => {
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

  it('puts, gets and deletes tokens under IPv4 and IPv6 client addresses', async () => {
    const store = await openKvFlowCacheStore(nc, 'parley-relay-flows-test', 30_000);
    await store.put('192.0.2.1:5000', 'tokA');
    await store.put('2001:db8::1:5000', 'tokB');
    expect(await store.get('192.0.2.1:5000')).toBe('tokA');
    expect(await store.get('2001:db8::1:5000')).toBe('tokB');
    expect(await store.get('192.0.2.1:5001')).toBeUndefined();
    await store.delete('192.0.2.1:5000');
    expect(await store.get('192.0.2.1:5000')).toBeUndefined();
    // A second relay opening the same bucket sees the same entries.
    const sibling = await openKvFlowCacheStore(nc, 'parley-relay-flows-test', 30_000);
    expect(await sibling.get('2001:db8::1:5000')).toBe('tokB');
    // A touch (a core publish to the KV subject, no ack) is stored like a put.
    store.touch('2001:db8::1:5000', 'tokB2');
    await nc.flush();
    const deadline = Date.now() + 2_000;
    while ((await sibling.get('2001:db8::1:5000')) !== 'tokB2' && Date.now() < deadline) await sleep(10);
    expect(await sibling.get('2001:db8::1:5000')).toBe('tokB2');
    expect(kvKey('2001:db8::1:5000')).toMatch(/^c\.[0-9a-f]+$/);
  });

  it('expires entries after the bucket TTL', async () => {
    const store = await openKvFlowCacheStore(nc, 'parley-relay-flows-ttl', 1_000);
    await store.put('192.0.2.9:1', 'tok');
    expect(await store.get('192.0.2.9:1')).toBe('tok');
    // The server enforces max age with about a second of granularity.
    const deadline = Date.now() + 5_000;
    let v: string | undefined = 'tok';
    while (v !== undefined && Date.now() < deadline) {
      await sleep(200);
      v = await store.get('192.0.2.9:1');
    }
    expect(v).toBeUndefined();
  });

  it('recovers a flow through the real KV: relay A writes, relay B (same port) reads and forwards', async () => {
    const storeA = await openKvFlowCacheStore(nc, 'parley-relay-flows-e2e', 30_000);
    const tx = await peer();
    const client = await peer();
    const port = await freeUdpPort();
    const a = await relayOn(port, storeA);
    const tok = token(tx.port);
    await client.send(buildBindingRequest({ username: `${tok}:Cli1`, password: 'x'.repeat(22) }), port);
    await tx.waitFor(1);
    const deadline = Date.now() + 2_000;
    while (a.cache.backlog > 0 && Date.now() < deadline) await sleep(10);
    await a.relay.close();
    const storeB = await openKvFlowCacheStore(nc, 'parley-relay-flows-e2e', 30_000);
    const b = await relayOn(port, storeB);
    for (let i = 0; i < 10 && tx.received.length < 2; i++) {
      await client.send(rtp(i), port);
      await sleep(20);
    }
    await tx.waitFor(2);
    expect(b.cache.counters.recovered).toBe(1);
    expect(b.relay.flows).toBe(1);
  });
});
