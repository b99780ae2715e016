import { describe, expect, it } from 'vitest';
import type { TransceiverAnnounce } from '../nats/schemas.js';
import { routeIdOf } from '../token/routing-token.js';
import { TransceiverTable } from './transceiver-table.js';

function announce(id: string, over: Partial<TransceiverAnnounce> = {}): TransceiverAnnounce {
  return {
    id,
    routeId: routeIdOf(id),
    cluster: 'local',
    region: 'local',
    address: '10.0.0.1',
    port: 40000,
    sessions: 0,
    capacity: 10,
    draining: false,
    version: 'test',
    sentAt: 0,
    ...over,
  };
}

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('TransceiverTable', () => {
  it('forgets a transceiver ttl after its last announcement, not before', () => {
    const clock = manualClock();
    const table = new TransceiverTable(clock.now, 3_000);
    table.upsert(announce('t1'));
    clock.advance(3_000);
    expect(table.get('t1')?.id).toBe('t1');
    expect(table.size).toBe(1);
    clock.advance(1);
    expect(table.get('t1')).toBeUndefined();
    expect(table.live()).toEqual([]);
    expect(table.size).toBe(0);
  });

  it('keeps a transceiver alive while it re-announces, and brings back a forgotten one', () => {
    const clock = manualClock();
    const table = new TransceiverTable(clock.now, 3_000);
    table.upsert(announce('t1'));
    for (let i = 0; i < 5; i++) {
      clock.advance(2_000);
      table.upsert(announce('t1', { sessions: i }));
    }
    expect(table.get('t1')?.sessions).toBe(4);

    clock.advance(10_000);
    expect(table.live()).toEqual([]);
    table.upsert(announce('t1', { sessions: 7 }));
    expect(table.get('t1')?.sessions).toBe(7);
    expect(table.byRouteId(routeIdOf('t1'))?.id).toBe('t1');
  });

  it('expires each transceiver on its own schedule', () => {
    const clock = manualClock();
    const table = new TransceiverTable(clock.now, 3_000);
    table.upsert(announce('old'));
    clock.advance(2_000);
    table.upsert(announce('new'));
    clock.advance(1_500);
    expect(table.live().map((t) => t.id)).toEqual(['new']);
  });

  it('resolves route ids to live transceivers only', () => {
    const clock = manualClock();
    const table = new TransceiverTable(clock.now, 3_000);
    table.upsert(announce('t1'));
    table.upsert(announce('t2'));
    expect(table.byRouteId(routeIdOf('t2'))?.id).toBe('t2');
    expect(table.byRouteId('ffffffffffff')).toBeUndefined();
    clock.advance(3_001);
    expect(table.byRouteId(routeIdOf('t2'))).toBeUndefined();
  });

  it('drops the old route id when a transceiver announces a new one', () => {
    const table = new TransceiverTable(() => 0);
    table.upsert(announce('t1', { routeId: 'aaaaaaaaaaaa' }));
    table.upsert(announce('t1', { routeId: 'bbbbbbbbbbbb' }));
    expect(table.byRouteId('aaaaaaaaaaaa')).toBeUndefined();
    expect(table.byRouteId('bbbbbbbbbbbb')?.id).toBe('t1');
  });

  it('remove() forgets a transceiver and its route at once', () => {
    const table = new TransceiverTable(() => 0);
    table.upsert(announce('t1'));
    table.remove('t1');
    expect(table.get('t1')).toBeUndefined();
    expect(table.byRouteId(routeIdOf('t1'))).toBeUndefined();
  });
});
