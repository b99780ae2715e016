import { describe, expect, it } from 'vitest';
import { FlowTable, flowKey } from './flow-table.js';

function setup(idleTimeoutMs = 1_000, maxFlows = 10) {
  let now = 5_000;
  const table = new FlowTable<string>({ idleTimeoutMs, maxFlows, clock: () => now });
  const open = (port: number, upstream = `up-${port}`) =>
    table.open({
      clientAddress: '198.51.100.7',
      clientPort: port,
      targetHost: '10.0.0.1',
      targetPort: 20_000,
      upstream,
    });
  return {
    table,
    open,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('FlowTable', () => {
  it('opens a flow keyed by client ip:port with zeroed counters and the clock as lastSeen', () => {
    const { table, open, now } = setup();
    const flow = open(40_000);
    expect(flow).toMatchObject({
      key: '198.51.100.7:40000',
      upstream: 'up-40000',
      targetHost: '10.0.0.1',
      targetPort: 20_000,
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
    expect(table.sweep()).toEqual([]);
    advance(1);
    expect(table.sweep()).toEqual([flow]);
    expect(table.size).toBe(0);
    expect(table.get(flow?.key ?? '')).toBeUndefined();
    expect(table.sweep()).toEqual([]);
  });

  it('touch keeps a flow alive; only idle flows are swept', () => {
    const { table, open, advance, now } = setup(1_000);
    const busy = open(1);
    const idle = open(2);
    if (!busy || !idle) throw new Error('open failed');
    for (let i = 0; i < 5; i++) {
      advance(600);
      table.touch(busy);
      const swept = table.sweep();
      expect(swept).toEqual(i === 1 ? [idle] : []);
    }
    expect(table.size).toBe(1);
    expect(busy.lastSeen).toBe(now());
    table.touch(busy, now() - 2_000);
    expect(table.sweep(now())).toEqual([busy]);
  });

  it('sweep takes an explicit time', () => {
    const { table, open, now } = setup(1_000);
    const flow = open(1);
    expect(table.sweep(now() + 500)).toEqual([]);
    expect(table.sweep(now() + 1_500)).toEqual([flow]);
  });

  it('refuses new flows beyond maxFlows until one goes away', () => {
    const { table, open } = setup(1_000, 3);
    const flows = [open(1), open(2), open(3)];
    expect(table.isFull).toBe(true);
    expect(open(4)).toBeUndefined();
    expect(table.size).toBe(3);
    expect(table.remove(flows[0] as NonNullable<(typeof flows)[0]>)).toBe(true);
    expect(table.isFull).toBe(false);
    expect(open(4)).toBeDefined();
  });

  it('refuses a second flow under the same key', () => {
    const { open } = setup();
    open(1);
    expect(() => open(1)).toThrow(/already open/);
  });

  it('remove() of a stale flow object does not remove the newer flow under the same key', () => {
    const { table, open } = setup();
    const old = open(1);
    if (!old) throw new Error('open failed');
    expect(table.remove(old)).toBe(true);
    const newer = open(1, 'second');
    expect(table.remove(old)).toBe(false);
    expect(table.get(old.key)).toBe(newer);
  });

  it('clear() returns every flow and empties the table', () => {
    const { table, open } = setup();
    const flows = [open(1), open(2)];
    expect(table.clear()).toEqual(flows);
    expect(table.size).toBe(0);
  });

  it('validates its options', () => {
    const clock = () => 0;
    expect(() => new FlowTable({ idleTimeoutMs: 0, maxFlows: 1, clock })).toThrow(/idleTimeoutMs/);
    expect(() => new FlowTable({ idleTimeoutMs: 1, maxFlows: 0, clock })).toThrow(/maxFlows/);
  });

  it('keys IPv4 and IPv6 clients apart', () => {
    expect(flowKey('10.0.0.1', 1)).not.toBe(flowKey('10.0.0.11', 1));
    expect(flowKey('::1', 12)).not.toBe(flowKey('::11', 2));
  });

  it('sweeps 100k flows quickly (a full scan each sweep is affordable)', () => {
    const { table, open, advance } = setup(1_000, 100_000);
    for (let p = 0; p < 100_000; p++) open(p);
    advance(500);
    const t0 = performance.now();
    expect(table.sweep()).toHaveLength(0);
    const scanMs = performance.now() - t0;
    advance(500);
    expect(table.sweep()).toHaveLength(100_000);
    // Generous bound: a regression to per-flow allocation or sorting would blow far past it.
    expect(scanMs).toBeLessThan(50);
  });
});
