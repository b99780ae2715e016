import { afterEach, describe, expect, it } from 'vitest';
import { UdpGenerator } from './udp-generator.js';
import { UdpSink } from './udp-sink.js';

describe.each([
  ['native/udp', true],
  ['node:dgram', false],
] as const)('UdpGenerator on %s', (_name, nativeIo) => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it('sends the asked rate round-robin over its flows, every probe counted by the sink', async () => {
    const sink = new UdpSink();
    open.push(sink);
    const { port } = await sink.bind({ nativeIo: true });
    const gen = new UdpGenerator({ nativeIo });
    open.push(gen);
    const opened = await gen.open({ target: { ip: '127.0.0.1', port }, flows: 8, mode: { kind: 'direct' } });
    expect(opened).toEqual({ flows: 8, io: nativeIo ? 'native' : 'dgram' });
    sink.select('run');
    const r = await gen.run({ rate: 4_000, durationMs: 250 });
    expect(r.sent).toBe(1_000);
    expect(r.sendErrors).toBe(0);
    const deadline = Date.now() + 2_000;
    while (sink.read().received < r.sent && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 5));
    const got = sink.read();
    expect(got.received).toBe(1_000);
    expect(got.latencyMs.p50).toBeGreaterThan(0);
    expect(got.latencyMs.p50).toBeLessThan(1_000);
  });

  it('opens Parley flows with one Binding Request per flow, which the sink counts as not a probe', async () => {
    const sink = new UdpSink();
    open.push(sink);
    const { port } = await sink.bind({ nativeIo: true });
    const gen = new UdpGenerator({ nativeIo });
    open.push(gen);
    const usernames = Array.from({ length: 5 }, (_, i) => `tok${i}:bn${i}`);
    await gen.open({ target: { ip: '127.0.0.1', port }, flows: 5, mode: { kind: 'parley', usernames } });
    const deadline = Date.now() + 2_000;
    while (sink.read().other < 5 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    expect(sink.read()).toMatchObject({ other: 5, received: 0 });
  });
});
