import { describe, expect, it } from 'vitest';
import { RevocationSet } from './revocation-set.js';
import { RouteTable } from './route-table.js';

describe('RouteTable', () => {
  it('forgets a transceiver that stopped announcing, for lookups and for memory', () => {
    let now = 1_000;
    const t = new RouteTable(() => now, 3_500);
    t.upsert({ routeId: 'aaaaaaaaaaaa', address: '10.0.0.1', port: 20_000 });
    t.upsert({ routeId: 'bbbbbbbbbbbb', address: '10.0.0.2', port: 20_000 });
    now += 2_000;
    t.upsert({ routeId: 'aaaaaaaaaaaa', address: '10.0.0.1', port: 20_001 });
    now += 1_501; // b last seen 3501 ms ago, a 1501 ms ago
    expect(t.size).toBe(2);
    expect(t.prune()).toBe(1);
    expect(t.size).toBe(1);
    expect(t.resolve('bbbbbbbbbbbb')).toBeUndefined();
    expect(t.resolve('aaaaaaaaaaaa')).toEqual({ address: '10.0.0.1', port: 20_001 });
    now += 3_501;
    // A lookup of a stale entry misses even before a prune.
    expect(t.resolve('aaaaaaaaaaaa')).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('prunes thousands of gone transceivers without any lookup', () => {
    let now = 0;
    const t = new RouteTable(() => now, 1_000);
    for (let i = 0; i < 5_000; i++)
      t.upsert({ routeId: i.toString(16).padStart(12, '0'), address: '10.0.0.1', port: 1 });
    now = 1_001;
    expect(t.prune()).toBe(5_000);
    expect(t.size).toBe(0);
  });
});

describe('RevocationSet', () => {
  it('remembers a revoked token until it expires, then forgets it', () => {
    const r = new RevocationSet();
    expect(r.add('t1', 1_100, 1_000)).toBe(true);
    expect(r.add('t0', 999, 1_000)).toBe(false);
    expect(r.has('t1')).toBe(true);
    expect(r.has('t0')).toBe(false);
    expect(r.prune(1_099)).toBe(0);
    expect(r.prune(1_100)).toBe(1);
    expect(r.has('t1')).toBe(false);
  });

  it('stays within its bound, dropping the oldest', () => {
    const r = new RevocationSet(3);
    for (const id of ['a', 'b', 'c', 'd']) r.add(id, 2_000, 1_000);
    expect(r.size).toBe(3);
    expect(r.has('a')).toBe(false);
    expect(r.has('d')).toBe(true);
  });
});
