import { createSocket } from 'node:dgram';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { bump, fuzz, fuzzBytes, fuzzFloor, fuzzTimeout, invariant } from '@parley/shared/testing/fuzz.js';
import { stunMessageArb } from '@parley/shared/testing/fuzz-stun.js';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBindingRequest } from '../ice/stun-guard.js';
import { DgramDatagramSocket, ipv4ToU32 } from './datagram-socket.js';
import { type MuxEndpoint, UdpMux } from './udp-mux.js';

/**
 * The transceiver's one socket demultiplexes datagrams from every relay
 * flow. Fed fuzzed STUN (naming live sessions or not, verifying or not),
 * DTLS, SRTP and random bytes from a handful of addresses, it must never
 * throw, must account for every datagram exactly once (dropped as an
 * unknown source, refused as a failed check, a verified check, or
 * delivered to a session), and must deliver DTLS/SRTP only from an address
 * that a verified check bound to that session.
 */
const CLIENT = 'Cl1e';
const SESSIONS = [
  { ufrag: 'AgEBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho', password: 'FUM0i+JZhEiAup41ljjys9Bn' },
  { ufrag: 'AgEBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhp', password: 'xq1+Yz0Ab9Cd8Ef7Gh6Ij5Kl' },
];
const SOURCES = [
  { address: '10.0.0.9', ip4: ipv4ToU32('10.0.0.9'), port: 4000 },
  { address: '10.0.0.9', ip4: ipv4ToU32('10.0.0.9'), port: 4001 },
  { address: '10.0.0.10', ip4: ipv4ToU32('10.0.0.10'), port: 4000 },
  { address: 'fd00::7', ip4: -1, port: 5000 },
];

const sockets: ReturnType<typeof createSocket>[] = [];
afterAll(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('UdpMux under fuzzing', () => {
  it(
    'never throws, counts every datagram once, and delivers only from addresses a verified check bound',
    () => {
      const socket = createSocket('udp4');
      sockets.push(socket);
      const mux = new UdpMux(new DgramDatagramSocket(socket), 2);
      let verified = 0;
      let delivered = 0;
      // Our own model of which session each source was last verified for.
      const boundTo = new Map<string, number>();
      const endpoints = SESSIONS.map((s, i): MuxEndpoint => {
        const key = Buffer.from(s.password);
        return {
          onBindingRequest(data, address, _ip4, port) {
            const ok = checkBindingRequest(data, s.ufrag, CLIENT, key).ok;
            if (ok) {
              verified++;
              boundTo.set(`${address}|${port}`, i);
            }
            return ok;
          },
          onDatagram(_data, address, ip4, port) {
            delivered++;
            const from = `${address ?? SOURCES.find((x) => x.ip4 === ip4)?.address}|${port}`;
            invariant(boundTo.has(from), () => `session ${i} got a datagram from ${from}, never verified`);
          },
        };
      });
      for (const [i, s] of SESSIONS.entries()) mux.register(s.ufrag, endpoints[i] as MuxEndpoint);

      const usernames = [...SESSIONS.map((s) => `${s.ufrag}:${CLIENT}`), `someone-else:${CLIENT}`];
      const samples = [
        ...SESSIONS.map((s) =>
          buildBindingRequest({ username: `${s.ufrag}:${CLIENT}`, password: s.password }),
        ),
        Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 9]),
        Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0]),
      ];
      const data = fc.oneof(
        {
          arbitrary: stunMessageArb({ usernames, passwords: SESSIONS.map((s) => s.password) }),
          weight: 3,
        },
        { arbitrary: fuzzBytes(samples), weight: 3 },
      );
      const tally = new Map<string, number>();
      fuzz(fc.tuple(data, fc.nat(SOURCES.length - 1)), ([bytes, from]) => {
        const src = SOURCES[from] as (typeof SOURCES)[number];
        const before = { ...mux.counters, verified, delivered };
        mux.receive(bytes, src.ip4 >= 0 && from % 2 === 0 ? undefined : src.address, src.ip4, src.port);
        const c = mux.counters;
        const outcomes =
          c.unknownSource -
          before.unknownSource +
          (c.rejectedAdmission - before.rejectedAdmission) +
          (verified - before.verified) +
          (delivered - before.delivered);
        invariant(c.datagramsIn - before.datagramsIn === 1, 'datagramsIn did not count the datagram');
        invariant(outcomes === 1, () => `one datagram had ${outcomes} outcomes`);
        bump(
          tally,
          c.unknownSource > before.unknownSource
            ? 'unknown_source'
            : c.rejectedAdmission > before.rejectedAdmission
              ? 'rejected'
              : verified > before.verified
                ? 'verified'
                : 'delivered',
        );
      });
      const c = mux.counters;
      expect(c.unknownSource + c.rejectedAdmission + verified + delivered).toBe(c.datagramsIn);
      for (const k of ['unknown_source', 'rejected', 'verified', 'delivered'])
        expect(tally.get(k) ?? 0, k).toBeGreaterThan(fuzzFloor(100));
    },
    fuzzTimeout(),
  );
});
