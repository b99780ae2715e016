import { describe, expect, it } from 'vitest';
import { ClusterRttTable } from './cluster-rtt.js';

describe('ClusterRttTable', () => {
  it('reports the median of the last samples, so one outlier does not reorder clusters', () => {
    const table = new ClusterRttTable(() => 0, 5);
    for (const v of [20, 21, 400, 19, 22]) table.record('eu', v);
    expect(table.get('eu')).toBe(21);
    table.record('eu', 23); // pushes 20 out: 21, 400, 19, 22, 23
    expect(table.get('eu')).toBe(22);
  });

  it('averages the middle two of an even count', () => {
    const table = new ClusterRttTable(() => 0);
    table.record('us', 70);
    table.record('us', 80);
    expect(table.get('us')).toBe(75);
  });

  it('forgets a cluster whose newest sample is stale, and ignores nonsense samples', () => {
    let now = 0;
    const table = new ClusterRttTable(() => now, 5, 10_000);
    table.record('eu', 20);
    table.record('eu', Number.NaN);
    table.record('eu', -1);
    now = 10_000;
    expect(table.snapshot()).toEqual(new Map([['eu', 20]]));
    now = 10_001;
    expect(table.get('eu')).toBeUndefined();
    expect(table.snapshot().size).toBe(0);
    expect(table.get('never')).toBeUndefined();
  });
});
