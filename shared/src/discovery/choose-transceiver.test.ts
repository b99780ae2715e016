import { describe, expect, it } from 'vitest';
import type { TransceiverAnnounce } from '../nats/schemas.js';
import { chooseTransceiver } from './choose-transceiver.js';

function t(id: string, over: Partial<TransceiverAnnounce> = {}): TransceiverAnnounce {
  return {
    id,
    routeId: '0123456789ab',
    cluster: 'eu',
    region: 'eu-west',
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

function chosenId(candidates: TransceiverAnnounce[], ctx: Parameters<typeof chooseTransceiver>[1]): string {
  const c = chooseTransceiver(candidates, ctx);
  if (!c.ok) throw new Error(`expected a choice, got ${c.reason}`);
  return c.transceiver.id;
}

describe('chooseTransceiver', () => {
  it('picks the least loaded by fraction of capacity, not by absolute sessions', () => {
    const candidates = [t('a', { sessions: 5, capacity: 10 }), t('b', { sessions: 8, capacity: 40 })];
    expect(chosenId(candidates, { cluster: 'eu' })).toBe('b');
  });

  it('skips draining transceivers even when they are emptiest', () => {
    const candidates = [t('a', { sessions: 0, draining: true }), t('b', { sessions: 9 })];
    expect(chosenId(candidates, { cluster: 'eu' })).toBe('b');
  });

  it('skips full transceivers and reports no_capacity when all are full or draining', () => {
    const candidates = [t('a', { sessions: 10 }), t('b', { draining: true }), t('c', { capacity: 0 })];
    expect(chooseTransceiver(candidates, { cluster: 'eu' })).toEqual({ ok: false, reason: 'no_capacity' });
    expect(chosenId([...candidates, t('d', { sessions: 9 })], { cluster: 'eu' })).toBe('d');
  });

  it('ignores other clusters and reports no_transceivers when none is in ours', () => {
    const candidates = [t('a', { cluster: 'us' }), t('b', { cluster: 'us' })];
    expect(chooseTransceiver(candidates, { cluster: 'eu' })).toEqual({
      ok: false,
      reason: 'no_transceivers',
    });
    expect(chooseTransceiver([], { cluster: 'eu' })).toEqual({ ok: false, reason: 'no_transceivers' });
    expect(chosenId([...candidates, t('c', { cluster: 'eu', sessions: 9 })], { cluster: 'eu' })).toBe('c');
  });

  it('counts pending sessions on top of announced ones', () => {
    const candidates = [t('a', { sessions: 2 }), t('b', { sessions: 3 })];
    expect(chosenId(candidates, { cluster: 'eu' })).toBe('a');
    expect(chosenId(candidates, { cluster: 'eu', pending: new Map([['a', 2]]) })).toBe('b');
  });

  it('treats a transceiver filled by pending sessions as full', () => {
    const candidates = [t('a', { sessions: 8 })];
    expect(chooseTransceiver(candidates, { cluster: 'eu', pending: new Map([['a', 2]]) })).toEqual({
      ok: false,
      reason: 'no_capacity',
    });
  });

  it('excludes transceivers that already failed, and says no_transceivers when nothing else is left', () => {
    const candidates = [t('a'), t('b', { sessions: 5 })];
    expect(chosenId(candidates, { cluster: 'eu', exclude: new Set(['a']) })).toBe('b');
    expect(chooseTransceiver(candidates, { cluster: 'eu', exclude: new Set(['a', 'b']) })).toEqual({
      ok: false,
      reason: 'no_transceivers',
    });
  });

  it('breaks ties by lower id whatever the input order', () => {
    const same = { sessions: 3, capacity: 10 };
    expect(chosenId([t('b', same), t('a', same), t('c', same)], { cluster: 'eu' })).toBe('a');
    expect(chosenId([t('c', same), t('b', same)], { cluster: 'eu' })).toBe('b');
  });
});
