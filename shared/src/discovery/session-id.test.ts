import { describe, expect, it } from 'vitest';
import { routeIdOf } from '../token/routing-token.js';
import { newSessionId, routeIdOfSession } from './session-id.js';

describe('session ids', () => {
  it('round-trips the route id of the transceiver that owns the session', () => {
    const routeId = routeIdOf('transceiver-7');
    const id = newSessionId(routeId);
    expect(routeIdOfSession(id)).toBe(routeId);
  });

  it('are URL-safe and unique', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => newSessionId('0123456789ab')));
    expect(ids.size).toBe(1_000);
    for (const id of ids) expect(encodeURIComponent(id)).toBe(id);
  });

  it('rejects strings that are not session ids', () => {
    const valid = newSessionId('0123456789ab');
    expect(routeIdOfSession('')).toBeUndefined();
    expect(routeIdOfSession('0123456789ab')).toBeUndefined();
    expect(routeIdOfSession(`${valid}x`)).toBeUndefined();
    expect(routeIdOfSession(valid.replace('0123456789ab', '0123456789AB'))).toBeUndefined();
    expect(routeIdOfSession('../../etc/passwd')).toBeUndefined();
  });
});
