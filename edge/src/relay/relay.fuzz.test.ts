import { randomBytes } from 'node:crypto';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { FIXTURE_ICE_PWD } from '@parley/shared/stun/fixtures/fixtures.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { FUZZ_SEED, fuzzBytes, fuzzRuns } from '@parley/shared/testing/fuzz.js';
import { stunMessageArb } from '@parley/shared/testing/fuzz-stun.js';
import { encodeToken, makeKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RelayIo, startRelay } from './relay.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

/**
 * The first-packet fuzz target checks decisions; this one checks that the
 * relay process wires every one of them into its counters, over real
 * loopback sockets: fuzzed datagrams from 16 client addresses (valid
 * Binding Requests open flows, after which a source's datagrams are
 * forwarded; everything else is refused), and at the end every datagram
 * sent is either counted up (and arrived at the stand-in transceiver) or
 * counted as a drop, exactly once. Fewer inputs than the pure target
 * (10k): each costs two real sends, and the count is what it checks.
 */
const log = createLogger('relay-fuzz', 'silent');
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
const ROUTE = routeIdOf('tx-fuzz');
const SOURCES = 16;
const BURST = 100;

/** Each case runs on both UDP I/O paths: the native addon (recvmmsg/sendmmsg) and node:dgram. */
const IO_PATHS = ['native', 'dgram'] as const satisfies readonly RelayIo[];
let io: RelayIo = 'native';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe.each(IO_PATHS)('relay over real sockets under fuzzing (%s I/O)', (path) => {
  beforeAll(() => {
    io = path;
  });

  it('counts every datagram once: forwarded up (and delivered) or dropped with a reason', async () => {
    const tx = await UdpPeer.bind('127.0.0.1', 0, 8 * 1024 * 1024);
    cleanups.push(() => tx.close());
    const relay = await startRelay({
      host: '127.0.0.1',
      port: await freeUdpPort(),
      upstreamHost: '127.0.0.1',
      keyring,
      resolveRoute: (id) => (id === ROUTE ? { address: '127.0.0.1', port: tx.port } : undefined),
      log,
      socketBufferBytes: 8 * 1024 * 1024,
      io,
    });
    cleanups.push(() => relay.close());
    const clients: UdpPeer[] = [];
    for (let i = 0; i < SOURCES; i++) {
      const c = await UdpPeer.bind('127.0.0.1', 0);
      cleanups.push(() => c.close());
      clients.push(c);
    }
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      encodeToken(keyring, { routeId: ROUTE, expiresAt: now + 600 }),
      encodeToken(keyring, { routeId: ROUTE, expiresAt: now + 600 }),
      encodeToken(keyring, { routeId: ROUTE, expiresAt: now - 1 }),
      encodeToken(keyring, { routeId: routeIdOf('tx-gone'), expiresAt: now + 600 }),
    ];
    const usernames = tokens.map((t) => `${t}:Cl1e`);
    const samples = [
      ...usernames.map((username) => buildBindingRequest({ username, password: FIXTURE_ICE_PWD })),
      Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 1, 0, 12, 1, 0, 0, 0]),
      Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 9, 9]),
    ];
    const arb = fc.tuple(
      fc.oneof(
        { arbitrary: stunMessageArb({ usernames, passwords: [FIXTURE_ICE_PWD] }), weight: 3 },
        { arbitrary: fuzzBytes(samples), weight: 2 },
      ),
      fc.nat(SOURCES - 1),
    );
    // Empty datagrams are legal UDP but carry nothing to count by kind; keep them too.
    const inputs = fc.sample(arb, { seed: FUZZ_SEED, numRuns: fuzzRuns(10_000) });

    const accounted = () => {
      const s = relay.counters.snapshot();
      return s.packetsUp + s.droppedPackets;
    };
    let sent = 0;
    for (let i = 0; i < inputs.length; i += BURST) {
      for (const [msg, from] of inputs.slice(i, i + BURST)) {
        await (clients[from] as UdpPeer).send(msg, relay.address().port);
        sent++;
      }
      // Bounded wait for the relay to take the burst (loopback, 8 MiB buffers: no loss expected).
      for (let waited = 0; accounted() < sent && waited < 2_000; waited += 5) await sleep(5);
      expect(accounted(), `after ${sent} datagrams`).toBe(sent);
    }
    const s = relay.counters.snapshot();
    expect(s.packetsUp + s.droppedPackets).toBe(sent);
    expect(s.flowsOpened).toBeGreaterThan(0);
    expect(s.droppedPackets).toBeGreaterThan(sent / 10);
    // Everything counted up reached the transceiver.
    await tx.waitFor(s.packetsUp, 5_000);
    expect(tx.received.length).toBe(s.packetsUp);
  }, 120_000);
});
