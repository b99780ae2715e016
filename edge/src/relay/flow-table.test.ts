import { describe, expect, it } from 'vitest';
import { type Flow, FlowTable, flowKey, type OpenResult } from './flow-table.js';

function setup(idleTimeoutMs = 1_000, maxFlows = 10, limits: { perToken?: number; perIp?: number } = {}) {
  let now = 5_000;
  const table = new FlowTable<string>({
    idleTimeoutMs,
    maxFlows,
    clock: () => now,
    maxFlowsPerToken: limits.perToken,
    maxFlowsPerIp: limits.perIp,
  });
  const tryOpen = (
    port: number,
    o: { ip?: string; token?: string; upstream?: string } = {},
  ): OpenResult<string> =>
    table.open({
      clientAddress: o.ip ?? '198.51.100.7',
      clientPort: port,
      targetHost: '10.0.0.1',
      targetPort: 20_000,
      token: o.token ?? `tok-${port}`,
      tokenId: o.token ?? `tok-${port}`,
      upstream: o.upstream ?? `up-${port}`,
    });
  const open = (port: number, o: { ip?: string; token?: string; upstream?: string } = {}): Flow<string> => {
    const r = tryOpen(port, o);
    if (!r.ok) throw new Error(`open refused: ${r.reason}`);
    return r.flow;
  };
  return {
    table,
    open,
    tryOpen,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

const swept = (r: { expired: Flow<string>[] }) => r.expired;

describe('FlowTable', () => {
  it('opens a flow keyed by client ip:port with zeroed counters and the clock as lastSeen', () => {
    const { table, open, now } = setup();
    const flow = open(40_000);
    expect(flow).toMatchObject({
      key: '198.51.100.7:40000',
      upstream: 'up-40000',
      targetHost: '10.0.0.1',
      targetPort: 20_000,
      token: 'tok-40000',
      openedAt: now(),
      lastSeen: now(),
      packetsUp: 0,
      bytesDown: 0,
    });
    expect(table.get('198.51.100.7:40000')).toBe(flow);
    expect(table.get('198.51.100.7:40001')).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it('expires a flow exactly idleTimeoutMs after it was last seen, and returns it for closing', () => {
    const { table, open, advance } = setup(1_000);
    const flow = open(1);
    advance(999);
    expect(swept(table.sweep())).toEqual([]);
    advance(1);
    expect(swept(table.sweep())).toEqual([flow]);
    expect(table.size).toBe(0);
    expect(table.get(flow.key)).toBeUndefined();
    expect(swept(table.sweep())).toEqual([]);
  });

  it('touch keeps a flow alive; only idle flows are swept', () => {
    const { table, open, advance, now } = setup(1_000);
    const busy = open(1);
    const idle = open(2);
    for (let i = 0; i < 5; i++) {
      advance(600);
      table.touch(busy);
      expect(swept(table.sweep())).toEqual(i === 1 ? [idle] : []);
    }
    expect(table.size).toBe(1);
    expect(busy.lastSeen).toBe(now());
    table.touch(busy, now() - 2_000);
    expect(swept(table.sweep(now()))).toEqual([busy]);
  });

  it('expires incrementally: a bounded batch per call, continuing where it stopped', () => {
    const { table, open, advance } = setup(1_000, 20_000, { perIp: 20_000 });
    const flows = Array.from({ length: 10_000 }, (_, p) => open(p));
    const live = open(60_000);
    advance(1_000);
    table.touch(live);
    const batches: number[] = [];
    let more = true;
    while (more) {
      const r = table.sweep(undefined, 256);
      batches.push(r.expired.length);
      more = r.more;
    }
    expect(Math.max(...batches)).toBeLessThanOrEqual(256);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(flows.length);
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(10_000 / 256));
    expect(table.size).toBe(1);
    expect(table.get(live.key)).toBe(live);
  });

  it('a bounded scan stops even when nothing expires, and resumes on the next call', () => {
    const { table, open, advance } = setup(1_000, 100);
    for (let p = 0; p < 50; p++) open(p);
    advance(500);
    expect(table.sweep(undefined, 10, 20)).toEqual({ expired: [], more: true });
    expect(table.sweep(undefined, 10, 20)).toEqual({ expired: [], more: true });
    expect(table.sweep(undefined, 10, 20)).toEqual({ expired: [], more: false });
  });

  it('refuses new flows beyond maxFlows until one goes away', () => {
    const { table, open, tryOpen } = setup(1_000, 3);
    const flows = [open(1), open(2), open(3)];
    expect(table.isFull).toBe(true);
    expect(tryOpen(4)).toEqual({ ok: false, reason: 'flow_table_full' });
    expect(table.size).toBe(3);
    expect(table.remove(flows[0] as Flow<string>)).toBe(true);
    expect(table.isFull).toBe(false);
    expect(tryOpen(4).ok).toBe(true);
  });

  it('bounds flows per token: a replayed token from many addresses holds a few flows, not thousands', () => {
    const { table, tryOpen } = setup(1_000, 100_000, { perToken: 4 });
    const results = Array.from({ length: 1_000 }, (_, i) =>
      tryOpen(5_000, { ip: `127.1.${i >> 8}.${i & 255}`, token: 'replayed' }),
    );
    // Unanswered flows give way to newer ones (oldest first), so the token never holds more than 4.
    expect(table.forToken('replayed').size).toBe(4);
    expect(table.size).toBe(4);
    expect(results.filter((r) => r.ok && r.evicted).length).toBe(996);
    // Another session is untouched by that token's limit.
    expect(tryOpen(5_000, { ip: '127.0.0.1', token: 'legit' }).ok).toBe(true);
  });

  it('keeps flows the transceiver answered; refuses beyond the token limit instead', () => {
    const { table, open, tryOpen } = setup(1_000, 100, { perToken: 2 });
    const a = open(1, { token: 't' });
    const b = open(2, { token: 't' });
    a.packetsDown = 3;
    const c = tryOpen(3, { token: 't' });
    expect(c.ok && c.evicted).toBe(b);
    if (c.ok) c.flow.packetsDown = 1;
    expect(tryOpen(4, { token: 't' })).toEqual({ ok: false, reason: 'token_flow_limit' });
    expect(table.get(a.key)).toBe(a);
  });

  it('bounds flows per source IP, and frees the slot when a flow goes', () => {
    const { table, open, tryOpen } = setup(1_000, 100, { perIp: 3 });
    const flows = [open(1), open(2), open(3)];
    expect(tryOpen(4)).toEqual({ ok: false, reason: 'ip_flow_limit' });
    expect(tryOpen(4, { ip: '198.51.100.8' }).ok).toBe(true);
    table.remove(flows[1] as Flow<string>);
    expect(table.flowsFromIp('198.51.100.7')).toBe(2);
    expect(tryOpen(5).ok).toBe(true);
  });

  it('refuses a second flow under the same key', () => {
    const { open } = setup();
    open(1);
    expect(() => open(1)).toThrow(/already open/);
  });

  it('remove() of a stale flow object does not remove the newer flow under the same key', () => {
    const { table, open } = setup();
    const old = open(1);
    expect(table.remove(old)).toBe(true);
    const newer = open(1, { upstream: 'second' });
    expect(table.remove(old)).toBe(false);
    expect(table.get(old.key)).toBe(newer);
    expect(table.forToken('tok-1').size).toBe(1);
  });

  it('clear() returns every flow and empties the table and its indexes', () => {
    const { table, open } = setup();
    const flows = [open(1), open(2)];
    expect(table.clear()).toEqual(flows);
    expect(table.size).toBe(0);
    expect(table.forToken('tok-1').size).toBe(0);
    expect(table.flowsFromIp('198.51.100.7')).toBe(0);
  });

  it('validates its options', () => {
    const clock = () => 0;
    expect(() => new FlowTable({ idleTimeoutMs: 0, maxFlows: 1, clock })).toThrow(/idleTimeoutMs/);
    expect(() => new FlowTable({ idleTimeoutMs: 1, maxFlows: 0, clock })).toThrow(/maxFlows/);
    expect(() => new FlowTable({ idleTimeoutMs: 1, maxFlows: 1, clock, maxFlowsPerToken: 0 })).toThrow(
      /limits/,
    );
  });

  it('keys IPv4 and IPv6 clients apart', () => {
    expect(flowKey('10.0.0.1', 1)).not.toBe(flowKey('10.0.0.11', 1));
    expect(flowKey('::1', 12)).not.toBe(flowKey('::11', 2));
  });
});
