import { randomBytes } from 'node:crypto';
import { encodeToken, makeKeyring } from '@parley/shared/token/routing-token.js';
import { describe, expect, it } from 'vitest';
import {
  EXPIRED,
  type SessionEndedEvent,
  SessionRegistry,
  TRANSCEIVER_LOST,
  tokenExpiryOfAnswer,
} from './session-registry.js';

function fakeClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const HOUR = 3_600_000;
const s = (sessionId: string, transceiverId: string, cluster = 'core-a', expiresAt = HOUR) => ({
  sessionId,
  transceiverId,
  cluster,
  expiresAt,
});

describe('SessionRegistry', () => {
  it('ends every session of a transceiver that left discovery, and tells each watcher once', () => {
    const clock = fakeClock();
    const counted: string[] = [];
    const reg = new SessionRegistry(clock.now, { onEnded: (r) => counted.push(r) });
    reg.track(s('a1', 'tx-a'));
    reg.track(s('a2', 'tx-a'));
    reg.track(s('b1', 'tx-b', 'core-b'));
    const heard: SessionEndedEvent[] = [];
    const unwatch = reg.watch('a1', (e) => heard.push(e));
    expect(typeof unwatch).toBe('function');

    clock.advance(2_500);
    expect(reg.reconcile(new Set(['tx-a', 'tx-b']))).toEqual([]);
    const ended = reg.reconcile(new Set(['tx-b']));
    expect(ended).toHaveLength(2);
    expect(heard).toEqual([{ type: 'session.ended', reason: TRANSCEIVER_LOST, t: 2_500 }]);
    expect(reg.status('a2')).toMatchObject({ state: 'ended', ended: { reason: TRANSCEIVER_LOST } });
    expect(reg.status('b1')).toEqual({ state: 'active', cluster: 'core-b', transceiverId: 'tx-b' });
    // A second pass finds nothing more to end, and the watcher is not called again.
    expect(reg.reconcile(new Set())).toHaveLength(1);
    expect(heard).toHaveLength(1);
    expect(reg.activeCount).toBe(0);
    expect(counted).toEqual([TRANSCEIVER_LOST, TRANSCEIVER_LOST, TRANSCEIVER_LOST]);
  });

  it('an end announced by the transceiver wins over a later loss, and is remembered for the retention', () => {
    const clock = fakeClock();
    const reg = new SessionRegistry(clock.now, { endedRetentionMs: 60_000 });
    reg.track(s('a1', 'tx-a'));
    expect(reg.end('a1', 'consent_lost')?.reason).toBe('consent_lost');
    expect(reg.end('a1', 'deleted')).toBeUndefined();
    expect(reg.reconcile(new Set())).toEqual([]);
    expect(reg.watch('a1', () => undefined)).toBe('ended');
    expect(reg.status('a1')).toMatchObject({ state: 'ended', ended: { reason: 'consent_lost' } });
    clock.advance(59_999);
    reg.prune();
    expect(reg.status('a1')?.state).toBe('ended');
    clock.advance(1);
    reg.prune();
    expect(reg.status('a1')).toBeUndefined();
    expect(reg.watch('a1', () => undefined)).toBe('unknown');
    expect(reg.size).toBe(0);
  });

  it('ends a session at its token expiry when nobody said so', () => {
    const clock = fakeClock(0);
    const reg = new SessionRegistry(clock.now);
    reg.track(s('a1', 'tx-a', 'core-a', 10_000));
    clock.advance(9_999);
    reg.prune();
    expect(reg.status('a1')?.state).toBe('active');
    clock.advance(1);
    reg.prune();
    expect(reg.status('a1')).toMatchObject({ state: 'ended', ended: { reason: EXPIRED, t: 10_000 } });
  });

  it('stays bounded: ended entries make room first, live ones are never dropped', () => {
    const clock = fakeClock();
    const reg = new SessionRegistry(clock.now, { maxSessions: 3 });
    expect(reg.track(s('a', 'tx'))).toBe(true);
    expect(reg.track(s('b', 'tx'))).toBe(true);
    expect(reg.track(s('c', 'tx'))).toBe(true);
    expect(reg.track(s('d', 'tx'))).toBe(false);
    reg.end('a', 'deleted');
    expect(reg.track(s('d', 'tx'))).toBe(true);
    expect(reg.status('a')).toBeUndefined();
    expect(reg.size).toBe(3);
    // Tracking the same session twice changes nothing.
    expect(reg.track(s('d', 'tx'))).toBe(true);
    expect(reg.size).toBe(3);
  });

  it('bounds watchers per session and forgets unsubscribed ones', () => {
    const reg = new SessionRegistry(fakeClock().now, { maxWatchersPerSession: 2 });
    reg.track(s('a', 'tx'));
    const w1 = reg.watch('a', () => undefined);
    const w2 = reg.watch('a', () => undefined);
    expect(reg.watch('a', () => undefined)).toBe('busy');
    expect(reg.watcherCount).toBe(2);
    if (typeof w1 === 'function') w1();
    expect(reg.watcherCount).toBe(1);
    expect(typeof reg.watch('a', () => undefined)).toBe('function');
    if (typeof w2 === 'function') w2();
  });
});

describe('tokenExpiryOfAnswer', () => {
  it('reads the expiry from the routing token in the answer ufrag (v2 and v3)', () => {
    const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
    const v2 = encodeToken(keyring, { routeId: '0123456789ab', expiresAt: 1_900_000_000 });
    const v3 = encodeToken(keyring, {
      routeId: '0123456789ab',
      expiresAt: 1_900_000_123,
      target: { address: '10.0.0.7', port: 20000 },
    });
    expect(tokenExpiryOfAnswer(`v=0\r\na=ice-ufrag:${v2}\r\na=ice-pwd:x\r\n`)).toBe(1_900_000_000);
    expect(tokenExpiryOfAnswer(`v=0\r\na=ice-ufrag:${v3}\r\n`)).toBe(1_900_000_123);
    expect(tokenExpiryOfAnswer('v=0\r\na=ice-ufrag:short\r\n')).toBeUndefined();
    expect(tokenExpiryOfAnswer('v=0\r\n')).toBeUndefined();
  });
});
