import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { monoMs, PROBE_BYTES, writeProbe } from './udp-probe.js';
import { UdpSink } from './udp-sink.js';

/** Sends `n` probes stamped `ageMs` in the past and waits (bounded) until the sink counted them. */
async function send(sock: Socket, port: number, sink: UdpSink, n: number, ageMs: number): Promise<void> {
  const before = sink.read().received;
  for (let i = 0; i < n; i++) {
    const buf = Buffer.alloc(PROBE_BYTES);
    writeProbe(buf, 0, 0, i, monoMs() - ageMs);
    sock.send(buf, port, '127.0.0.1');
  }
  const deadline = Date.now() + 2_000;
  while (sink.read().received < before + n && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
}

describe.each([
  ['native/udp', true],
  ['node:dgram', false],
] as const)('UdpSink tallies on %s', (_name, nativeIo) => {
  let sink = new UdpSink();
  let sock: Socket = createSocket('udp4');
  afterEach(async () => {
    await sink.close();
    await new Promise<void>((r) => sock.close(() => r()));
    sink = new UdpSink();
    sock = createSocket('udp4');
  });

  it('keeps each selected path apart and pools its slices until reset', async () => {
    const { port, io } = await sink.bind({ nativeIo });
    expect(io).toBe(nativeIo ? 'native' : 'dgram');
    sink.select('a');
    sink.reset();
    await send(sock, port, sink, 20, 5);
    sink.select('b');
    sink.reset();
    await send(sock, port, sink, 10, 50);
    // Back to a: its first slice is still there, the second adds to it.
    sink.select('a');
    await send(sock, port, sink, 20, 5);
    const a = sink.read();
    expect(a.received).toBe(40);
    expect(a.latencyMs.max).toBeLessThan(50);
    sink.select('b');
    const b = sink.read();
    expect(b.received).toBe(10);
    expect(b.latencyMs.p50).toBeGreaterThan(45);
    sink.reset();
    expect(sink.read().received).toBe(0);
    sink.select('a');
    expect(sink.read().received).toBe(40);
  });

  it('counts datagrams that are not probes apart (the STUN request that opened a relay flow)', async () => {
    const { port } = await sink.bind({ nativeIo });
    sock.send(Buffer.from('not a probe'), port, '127.0.0.1');
    const deadline = Date.now() + 2_000;
    while (sink.read().other < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(sink.read()).toMatchObject({ other: 1, received: 0 });
  });
});
