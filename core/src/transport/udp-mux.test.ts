import { createSocket } from 'node:dgram';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBindingRequest } from '../ice/stun-guard.js';
import { DgramDatagramSocket, ipv4ToU32 } from './datagram-socket.js';
import { type MuxEndpoint, UdpMux } from './udp-mux.js';

const UFRAG = 'AgEBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho';
const PASSWORD = 'FUM0i+JZhEiAup41ljjys9Bn';
const CLIENT = 'abcd';

/** An endpoint that verifies like a session does and records what reached it. */
function endpoint(ufrag = UFRAG, password = PASSWORD) {
  const seen: { kind: 'stun' | 'data'; from: string }[] = [];
  const ep: MuxEndpoint = {
    onBindingRequest(data, address, _ip4, port) {
      const v = checkBindingRequest(data, ufrag, CLIENT, Buffer.from(password));
      if (v.ok) seen.push({ kind: 'stun', from: `${address}:${port}` });
      return v.ok;
    },
    onDatagram(_data, address, ip4, port) {
      seen.push({ kind: 'data', from: `${address ?? ip4}:${port}` });
    },
  };
  return { ep, seen };
}

function check(opts: { ufrag?: string; password?: string } = {}): Buffer {
  return buildBindingRequest({
    username: `${opts.ufrag ?? UFRAG}:${CLIENT}`,
    password: opts.password ?? PASSWORD,
    fingerprint: true,
  });
}

const DTLS = Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const IP = ipv4ToU32('10.0.0.9');
const SRTP = Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 9]);

const sockets: ReturnType<typeof createSocket>[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});
function mux(): UdpMux {
  const s = createSocket('udp4');
  sockets.push(s);
  return new UdpMux(new DgramDatagramSocket(s), 2);
}

describe('UdpMux', () => {
  it('drops DTLS and SRTP from an address no verified check bound, and counts them', () => {
    const m = mux();
    const { ep, seen } = endpoint();
    m.register(UFRAG, ep);
    m.receive(DTLS, '10.0.0.9', IP, 4000);
    m.receive(SRTP, '10.0.0.9', IP, 4000);
    expect(seen).toEqual([]);
    expect(m.counters.unknownSource).toBe(2);
  });

  it('rejects a check with bad integrity, and binds nothing', () => {
    const m = mux();
    const { ep, seen } = endpoint();
    m.register(UFRAG, ep);
    m.receive(check({ password: 'x'.repeat(24) }), '10.0.0.9', IP, 4000);
    m.receive(DTLS, '10.0.0.9', IP, 4000);
    expect(seen).toEqual([]);
    expect(m.counters.rejectedAdmission).toBe(1);
    expect(m.counters.unknownSource).toBe(1);
  });

  it('drops a check naming no live session', () => {
    const m = mux();
    m.register(UFRAG, endpoint().ep);
    m.receive(check({ ufrag: 'someone-else' }), '10.0.0.9', IP, 4000);
    expect(m.counters.unknownSource).toBe(1);
  });

  it('binds the address of a verified check, then routes its DTLS and SRTP', () => {
    const m = mux();
    const { ep, seen } = endpoint();
    m.register(UFRAG, ep);
    m.receive(check(), '10.0.0.9', IP, 4000);
    m.receive(DTLS, '10.0.0.9', IP, 4000);
    m.receive(SRTP, '10.0.0.9', IP, 4000);
    expect(seen.map((s) => s.kind)).toEqual(['stun', 'data', 'data']);
    expect(m.counters.admitted).toBe(1);
  });

  it('admits a new relay flow for the same session on a verified check, keeping at most N addresses', () => {
    const m = mux();
    const { ep, seen } = endpoint();
    m.register(UFRAG, ep);
    for (const port of [4000, 4001, 4002]) m.receive(check(), '10.0.0.9', IP, port);
    m.receive(SRTP, '10.0.0.9', IP, 4002);
    m.receive(SRTP, '10.0.0.9', IP, 4000); // evicted: the limit is 2 here
    expect(seen.filter((s) => s.kind === 'data').map((s) => s.from)).toEqual(['10.0.0.9:4002']);
    expect(m.counters.unknownSource).toBe(1);
  });

  it('moves an address to a new session when that session verifies from it', () => {
    const m = mux();
    const a = endpoint();
    const other = 'BgEBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho';
    const b = endpoint(other, 'another-password-of-24ch');
    m.register(UFRAG, a.ep);
    m.register(other, b.ep);
    m.receive(check(), '10.0.0.9', IP, 4000);
    m.receive(check({ ufrag: other, password: 'another-password-of-24ch' }), '10.0.0.9', IP, 4000);
    m.receive(SRTP, '10.0.0.9', IP, 4000);
    expect(a.seen.filter((s) => s.kind === 'data')).toEqual([]);
    expect(b.seen.map((s) => s.kind)).toEqual(['stun', 'data']);
  });

  it('forgets every address of an unregistered session', () => {
    const m = mux();
    const { ep, seen } = endpoint();
    m.register(UFRAG, ep);
    m.receive(check(), '10.0.0.9', IP, 4000);
    m.unregister(UFRAG);
    m.receive(SRTP, '10.0.0.9', IP, 4000);
    m.receive(check(), '10.0.0.9', IP, 4000);
    expect(seen.map((s) => s.kind)).toEqual(['stun']);
    expect(m.counters.unknownSource).toBe(2);
  });

  it('refuses a second registration of the same ufrag', () => {
    const m = mux();
    m.register(UFRAG, endpoint().ep);
    expect(() => m.register(UFRAG, endpoint().ep)).toThrow(/already registered/);
  });
});

describe('ipv4ToU32', () => {
  it('reads dotted quads and gives -1 for anything else', () => {
    expect(ipv4ToU32('10.0.0.9')).toBe(((10 * 256 + 0) * 256 + 0) * 256 + 9);
    expect(ipv4ToU32('255.255.255.255')).toBe(2 ** 32 - 1);
    for (const bad of ['::1', '10.0.0', '10.0.0.256', '1.2.3.4.5', '', '1..2.3', 'a.b.c.d', '1234.1.1.1'])
      expect(ipv4ToU32(bad)).toBe(-1);
  });

  it('keys IPv4 senders by number: an address known only as a u32 reaches the same session', () => {
    const m = mux();
    const { ep, seen } = endpoint();
    m.register(UFRAG, ep);
    m.receive(check(), '10.0.0.9', IP, 4000);
    m.receive(SRTP, undefined, IP, 4000);
    expect(seen.map((x) => x.kind)).toEqual(['stun', 'data']);
  });
});
