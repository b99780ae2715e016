import { describe, expect, it } from 'vitest';
import { parseCoreTicks } from './core-usage.js';
import { parseUdpDrops } from './udp-drops.js';

describe('/proc/net/udp drops', () => {
  const table = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    ' 2063: 0100007F:A967 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 124320 2 000000001c2d9f0c 17',
    ' 2064: 0100007F:0D96 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 124321 2 000000001c2d9f0d 0',
    ' 2065: 00000000:A967 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 124322 2 000000001c2d9f0e 3',
  ].join('\n');

  it('sums the drops of every socket bound to the port, and says when none is', () => {
    expect(parseUdpDrops(table, 0xa967)).toBe(20);
    expect(parseUdpDrops(table, 3478)).toBe(0);
    expect(parseUdpDrops(table, 9)).toBeUndefined();
  });
});

describe('/proc/stat core ticks', () => {
  const stat = 'cpu  100 0 50 900 10 0 5 0 0 0\ncpu0 60 0 20 400 5 0 3 0 0 0\ncpu1 40 0 30 500 5 0 2 0 0 0\n';
  it('counts everything but idle and iowait as busy, softirq included', () => {
    expect(parseCoreTicks(stat, 0)).toEqual({ busy: 83, total: 488 });
    expect(parseCoreTicks(stat, 1)).toEqual({ busy: 72, total: 577 });
    expect(parseCoreTicks(stat, 2)).toBeUndefined();
  });
});
