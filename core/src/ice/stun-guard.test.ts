import { describe, expect, it } from 'vitest';
import { classes, Message, methods } from 'werift';
import { checkBindingRequest, isStunPacket } from './stun-guard.js';

const LOCAL = 'AQP6lLHM9LfCqJVvOzFrAZ1HVc464cjyBgtB4g';
const REMOTE = 'faf8';
const PASSWORD = Buffer.from('FUM0i+JZhEiAup41ljjys9Bn');

function request(opts: { username?: string; key?: Buffer; useCandidate?: boolean } = {}): Buffer {
  const m = new Message(methods.BINDING, classes.REQUEST);
  m.setAttribute('USERNAME', opts.username ?? `${LOCAL}:${REMOTE}`);
  m.setAttribute('PRIORITY', 1853817087);
  m.setAttribute('ICE-CONTROLLING', 123456789n);
  if (opts.useCandidate) m.setAttribute('USE-CANDIDATE', null);
  m.addMessageIntegrity(opts.key ?? PASSWORD);
  m.addFingerprint();
  return m.bytes;
}

describe('checkBindingRequest', () => {
  it('accepts a request signed with our password for our ufrag, and reports USE-CANDIDATE', () => {
    expect(checkBindingRequest(request(), LOCAL, REMOTE, PASSWORD)).toEqual({
      ok: true,
      useCandidate: false,
    });
    expect(checkBindingRequest(request({ useCandidate: true }), LOCAL, REMOTE, PASSWORD)).toEqual({
      ok: true,
      useCandidate: true,
    });
  });

  it('rejects a request signed with another password', () => {
    expect(
      checkBindingRequest(request({ key: Buffer.from('x'.repeat(24)) }), LOCAL, REMOTE, PASSWORD),
    ).toEqual({
      ok: false,
      reason: 'bad_integrity',
    });
  });

  it('rejects a correctly signed request for another session', () => {
    expect(checkBindingRequest(request({ username: `${LOCAL}:zzzz` }), LOCAL, REMOTE, PASSWORD)).toEqual({
      ok: false,
      reason: 'bad_username',
    });
  });

  it('rejects a request whose bytes were altered after signing', () => {
    const bytes = request();
    bytes[bytes.length - 30] ^= 0xff;
    expect(checkBindingRequest(bytes, LOCAL, REMOTE, PASSWORD).ok).toBe(false);
  });

  it('tells STUN from DTLS and RTP by first byte and cookie', () => {
    expect(isStunPacket(request())).toBe(true);
    expect(isStunPacket(Buffer.from([22, 254, 253, ...new Array(30).fill(0)]))).toBe(false);
    expect(isStunPacket(Buffer.from([0x80, 111, ...new Array(30).fill(0)]))).toBe(false);
    expect(checkBindingRequest(Buffer.alloc(10), LOCAL, REMOTE, PASSWORD)).toEqual({
      ok: false,
      reason: 'not_stun',
    });
  });
});
