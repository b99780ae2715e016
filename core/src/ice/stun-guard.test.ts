import { FIXTURE_ICE_PWD, FIXTURE_NAMES, loadFixture } from '@parley/shared/stun/fixtures/fixtures.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { readUsername } from '@parley/shared/stun/stun-message.js';
import { describe, expect, it } from 'vitest';
import { bindingRequestReceiverUfrag, checkBindingRequest, isStunPacket } from './stun-guard.js';

const LOCAL = 'AQP6lLHM9LfCqJVvOzFrAZ1HVc464cjyBgtB4g';
const REMOTE = 'faf8';
const PASSWORD = Buffer.from('FUM0i+JZhEiAup41ljjys9Bn');

function request(opts: { username?: string; key?: Buffer; useCandidate?: boolean } = {}): Buffer {
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(1853817087);
  return buildBindingRequest({
    username: opts.username ?? `${LOCAL}:${REMOTE}`,
    password: (opts.key ?? PASSWORD).toString('utf8'),
    fingerprint: true,
    attributes: [
      { type: 0x0024, value: priority },
      { type: 0x802a, value: Buffer.alloc(8, 7) },
      ...(opts.useCandidate ? [{ type: 0x0025, value: Buffer.alloc(0) }] : []),
    ],
  });
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
    bytes[bytes.length - 30] = (bytes[bytes.length - 30] as number) ^ 0xff;
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

describe('Binding Requests captured from real stacks', () => {
  it.each(FIXTURE_NAMES)("verifies the %s with the answer's ice-pwd, and not with another", (name) => {
    const bytes = loadFixture(name);
    const local = bindingRequestReceiverUfrag(bytes);
    if (!local) throw new Error('fixture has no USERNAME');
    const username = readUsername(bytes);
    if (!username.ok) throw new Error(username.reason);
    const remote = username.username.slice(local.length + 1);
    const pwd = Buffer.from(FIXTURE_ICE_PWD);
    expect(checkBindingRequest(bytes, local, remote, pwd).ok).toBe(true);
    expect(checkBindingRequest(bytes, local, remote, Buffer.from(`${FIXTURE_ICE_PWD}x`))).toEqual({
      ok: false,
      reason: 'bad_integrity',
    });
  });
});

describe('bindingRequestReceiverUfrag', () => {
  it('reads our half of USERNAME, and nothing from other packets', () => {
    expect(bindingRequestReceiverUfrag(request())).toBe(LOCAL);
    expect(bindingRequestReceiverUfrag(request({ username: 'nocolon' }))).toBeUndefined();
    expect(bindingRequestReceiverUfrag(Buffer.alloc(20))).toBeUndefined();
    expect(bindingRequestReceiverUfrag(Buffer.from([22, 254, 253]))).toBeUndefined();
  });
});
