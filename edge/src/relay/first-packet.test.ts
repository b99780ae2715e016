import {
  FIXTURE_EXPIRES_AT,
  FIXTURE_KEY_ID,
  FIXTURE_NAMES,
  FIXTURE_SECRET_HEX,
  FIXTURE_TRANSCEIVER_ID,
  loadFixture,
} from '@parley/shared/stun/fixtures/fixtures.js';
import { buildBindingRequest, buildStunMessage } from '@parley/shared/stun/stun-build.js';
import { messageType, readUsername, StunClass, splitIceUsername } from '@parley/shared/stun/stun-message.js';
import {
  encodeToken,
  makeKeyring,
  type RoutingClaims,
  routeIdOf,
  tokenId,
  verifyToken,
} from '@parley/shared/token/routing-token.js';
import { describe, expect, it, vi } from 'vitest';
import {
  bindingRequestToken,
  decideFirstPacket,
  type FirstPacketContext,
  normalizeIp,
  type RouteTarget,
} from './first-packet.js';
import { encodeV1Token } from './testing/v1-token.js';

const NOW_MS = 1_900_000_000_000;
const keyring = makeKeyring([{ id: 1, secret: Buffer.alloc(32, 0x11) }]);
const routeId = routeIdOf('tx-a');
const route: RouteTarget = { address: '10.1.2.3', port: 20_000 };
const routes = new Map<string, RouteTarget>([[routeId, route]]);

function ctx(over: Partial<FirstPacketContext> = {}): FirstPacketContext {
  return { keyring, nowMs: NOW_MS, resolveRoute: (id) => routes.get(id), family: 4, ...over };
}
function token(claims: Partial<RoutingClaims> = {}, kr = keyring): string {
  return encodeToken(kr, { routeId, expiresAt: NOW_MS / 1000 + 300, ...claims });
}
function check(tok: string, extra: Parameters<typeof buildBindingRequest>[0] = {}): Buffer {
  return buildBindingRequest({ username: `${tok}:Cl1e`, password: 'transceiverpassword1234', ...extra });
}

describe('decideFirstPacket: flows that may open', () => {
  it('forwards a Binding Request with a valid token to the announced address and port', () => {
    const tok = token();
    expect(decideFirstPacket(check(tok), ctx())).toEqual({
      forward: {
        host: '10.1.2.3',
        port: 20_000,
        routeId,
        keyId: 1,
        token: tok,
        tokenId: tokenId(tok),
        expiresAt: NOW_MS / 1000 + 300,
        via: 'discovery',
      },
    });
  });

  it('without discovery, forwards to the address signed in a version 3 token only when told to', () => {
    const tok = token({ target: { address: '10.9.8.7', port: 20_001 } });
    const none = () => undefined;
    expect(decideFirstPacket(check(tok), ctx({ resolveRoute: none }))).toEqual({ drop: 'route_unknown' });
    expect(decideFirstPacket(check(tok), ctx({ resolveRoute: none, useSignedTarget: true }))).toMatchObject({
      forward: { host: '10.9.8.7', port: 20_001, via: 'token' },
    });
    // Discovery, when it knows the route, wins over the signed address.
    expect(decideFirstPacket(check(tok), ctx({ useSignedTarget: true }))).toMatchObject({
      forward: { host: '10.1.2.3', port: 20_000, via: 'discovery' },
    });
    // A version 2 token carries no address: nothing to fall back to.
    expect(decideFirstPacket(check(token()), ctx({ resolveRoute: none, useSignedTarget: true }))).toEqual({
      drop: 'route_unknown',
    });
  });

  it('refuses a revoked token (an ended session)', () => {
    const tok = token();
    expect(decideFirstPacket(check(tok), ctx({ isRevoked: (id) => id === tokenId(tok) }))).toEqual({
      drop: 'token_revoked',
    });
    expect(decideFirstPacket(check(token()), ctx({ isRevoked: (id) => id === tokenId(tok) }))).toHaveProperty(
      'forward',
    );
  });

  it('bindingRequestToken reads the server ufrag of Binding Requests only', () => {
    const tok = token();
    expect(bindingRequestToken(check(tok))).toBe(tok);
    expect(
      bindingRequestToken(Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    ).toBe(undefined);
    const response = Buffer.from(check(tok));
    response[1] = 0x01;
    response[0] = 0x01; // Binding success response
    expect(bindingRequestToken(response)).toBeUndefined();
  });

  it('sends every session of a transceiver to its one announced port, whatever the nonce', () => {
    for (let i = 0; i < 20; i++) {
      expect(decideFirstPacket(check(token()), ctx())).toMatchObject({ forward: { port: 20_000 } });
    }
    // A transceiver that restarts on another port is followed as soon as it announces it.
    const moved = () => ({ ...route, port: 31_337 });
    expect(decideFirstPacket(check(token()), ctx({ resolveRoute: moved }))).toMatchObject({
      forward: { host: '10.1.2.3', port: 31_337 },
    });
  });

  it('accepts a request without FINGERPRINT', () => {
    expect(decideFirstPacket(check(token(), { fingerprint: false }), ctx())).toHaveProperty('forward');
  });

  for (const name of FIXTURE_NAMES) {
    it(`forwards the real ${name} fixture`, () => {
      const pkt = loadFixture(name);
      const fixtureKeyring = makeKeyring([
        { id: FIXTURE_KEY_ID, secret: Buffer.from(FIXTURE_SECRET_HEX, 'hex') },
      ]);
      const user = readUsername(pkt);
      const tok = user.ok ? splitIceUsername(user.username)?.receiver : undefined;
      const claims = verifyToken(fixtureKeyring, tok ?? '', 0);
      if (!claims.ok) throw new Error(`fixture token does not verify: ${claims.reason}`);
      const port = 20_000;
      const resolveRoute = vi.fn((id: string) =>
        id === routeIdOf(FIXTURE_TRANSCEIVER_ID) ? { address: '127.0.0.1', port } : undefined,
      );
      const nowMs = (FIXTURE_EXPIRES_AT - 60) * 1000;
      expect(decideFirstPacket(pkt, { keyring: fixtureKeyring, nowMs, resolveRoute })).toEqual({
        forward: {
          host: '127.0.0.1',
          port,
          routeId: routeIdOf(FIXTURE_TRANSCEIVER_ID),
          keyId: FIXTURE_KEY_ID,
          token: tok,
          tokenId: tokenId(tok ?? ''),
          expiresAt: FIXTURE_EXPIRES_AT,
          via: 'discovery',
        },
      });
      expect(resolveRoute).toHaveBeenCalledTimes(1);
      // The same real bytes an hour after expiry: refused.
      const late = decideFirstPacket(pkt, {
        keyring: fixtureKeyring,
        nowMs: FIXTURE_EXPIRES_AT * 1000,
        resolveRoute,
      });
      expect(late).toEqual({ drop: 'token_expired' });
    });
  }
});

describe('decideFirstPacket: everything else is dropped, with a reason', () => {
  it('forged: one character of the token changed', () => {
    const t = token();
    const i = 20;
    const forged = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
    expect(decideFirstPacket(check(forged), ctx())).toEqual({ drop: 'token_bad_signature' });
  });

  it('forged: signed by a key we do not hold under a known key id', () => {
    const stranger = makeKeyring([{ id: 1, secret: Buffer.alloc(32, 0x22) }]);
    expect(decideFirstPacket(check(token({}, stranger)), ctx())).toEqual({ drop: 'token_bad_signature' });
  });

  it('expired, at and after expiry', () => {
    const t = token({ expiresAt: NOW_MS / 1000 });
    expect(decideFirstPacket(check(t), ctx())).toEqual({ drop: 'token_expired' });
    expect(decideFirstPacket(check(t), ctx({ nowMs: NOW_MS - 1000 }))).toHaveProperty('forward');
  });

  it('unknown key id', () => {
    const other = makeKeyring([{ id: 9, secret: Buffer.alloc(32, 0x11) }]);
    expect(decideFirstPacket(check(token({}, other)), ctx())).toEqual({ drop: 'token_unknown_key' });
  });

  it('unknown route, and the resolver is never asked about forged tokens', () => {
    const resolveRoute = vi.fn(() => undefined);
    expect(decideFirstPacket(check(token({ routeId: routeIdOf('tx-gone') })), ctx({ resolveRoute }))).toEqual(
      {
        drop: 'route_unknown',
      },
    );
    expect(resolveRoute).toHaveBeenCalledWith(routeIdOf('tx-gone'));
    resolveRoute.mockClear();
    const stranger = makeKeyring([{ id: 1, secret: Buffer.alloc(32, 0x33) }]);
    decideFirstPacket(check(token({}, stranger)), ctx({ resolveRoute }));
    expect(resolveRoute).not.toHaveBeenCalled();
  });

  it('a version 1 token (which named a per-session port), even correctly signed', () => {
    const resolveRoute = vi.fn(() => route);
    const v1 = encodeV1Token(keyring.signing, { routeId, port: 22, expiresAt: NOW_MS / 1000 + 300 });
    expect(decideFirstPacket(check(v1), ctx({ resolveRoute }))).toEqual({ drop: 'token_version' });
    expect(resolveRoute).not.toHaveBeenCalled();
  });

  it('a route whose address is a hostname or of the other family', () => {
    const named = () => ({ ...route, address: 'transceiver.internal' });
    expect(decideFirstPacket(check(token()), ctx({ resolveRoute: named }))).toEqual({
      drop: 'route_bad_address',
    });
    const v6 = () => ({ ...route, address: 'fd00::5' });
    expect(decideFirstPacket(check(token()), ctx({ resolveRoute: v6 }))).toEqual({
      drop: 'route_bad_address',
    });
    expect(decideFirstPacket(check(token()), ctx({ resolveRoute: v6, family: 6 }))).toMatchObject({
      forward: { host: 'fd00::5' },
    });
  });

  it('non-STUN datagrams, by RFC 7983 kind', () => {
    expect(decideFirstPacket(Buffer.from('16fefd0000000000000000', 'hex'), ctx())).toEqual({
      drop: 'no_flow_dtls',
    });
    expect(decideFirstPacket(Buffer.from('806f00010000006400000001', 'hex'), ctx())).toEqual({
      drop: 'no_flow_rtp',
    });
    expect(decideFirstPacket(Buffer.from('GET / HTTP/1.1\r\n'), ctx())).toEqual({ drop: 'no_flow_unknown' });
    expect(decideFirstPacket(Buffer.alloc(0), ctx())).toEqual({ drop: 'no_flow_unknown' });
  });

  it('STUN that is not a Binding Request', () => {
    const t = token();
    const attrs = [{ type: 0x0006, value: Buffer.from(`${t}:Cl1e`) }];
    const response = buildStunMessage({ type: messageType(StunClass.successResponse, 1), attributes: attrs });
    const indication = buildStunMessage({ type: messageType(StunClass.indication, 1), attributes: attrs });
    const allocate = buildStunMessage({ type: messageType(StunClass.request, 3), attributes: attrs });
    for (const pkt of [response, indication, allocate]) {
      expect(decideFirstPacket(pkt, ctx())).toEqual({ drop: 'stun_not_binding_request' });
    }
  });

  it('malformed STUN, missing or malformed USERNAME, bad FINGERPRINT', () => {
    const good = check(token());
    const badCookie = Buffer.from(good);
    badCookie.writeUInt32BE(0xdeadbeef, 4);
    expect(decideFirstPacket(badCookie, ctx())).toEqual({ drop: 'stun_malformed' });
    expect(decideFirstPacket(good.subarray(0, good.length - 4), ctx())).toEqual({ drop: 'stun_malformed' });
    const overflow = Buffer.from(good);
    overflow.writeUInt16BE(0x0fff, 22);
    expect(decideFirstPacket(overflow, ctx())).toEqual({ drop: 'stun_malformed' });
    expect(decideFirstPacket(buildBindingRequest({}), ctx())).toEqual({ drop: 'stun_no_username' });
    expect(decideFirstPacket(buildBindingRequest({ username: token() }), ctx())).toEqual({
      drop: 'username_malformed',
    });
    expect(decideFirstPacket(buildBindingRequest({ username: 'x'.repeat(600) }), ctx())).toEqual({
      drop: 'username_malformed',
    });
    expect(decideFirstPacket(buildBindingRequest({ username: 'shortufrag:Cl1e' }), ctx())).toEqual({
      drop: 'token_malformed',
    });
    expect(decideFirstPacket(buildBindingRequest({ username: `${'-'.repeat(38)}:Cl1e` }), ctx())).toEqual({
      drop: 'token_malformed',
    });
    const badFp = Buffer.from(good);
    badFp[good.length - 1] = (badFp[good.length - 1] as number) ^ 1;
    expect(decideFirstPacket(badFp, ctx())).toEqual({ drop: 'stun_bad_fingerprint' });
  });

  it('asks admit() only for well-formed candidates, right before the HMAC', () => {
    const admit = vi.fn(() => false);
    expect(decideFirstPacket(check(token()), ctx({ admit }))).toEqual({ drop: 'rate_limited' });
    expect(admit).toHaveBeenCalledTimes(1);
    decideFirstPacket(Buffer.from('806f0001', 'hex'), ctx({ admit }));
    decideFirstPacket(buildBindingRequest({ username: 'shortufrag:Cl1e' }), ctx({ admit }));
    expect(admit).toHaveBeenCalledTimes(1);
  });

  it('never throws on random bytes, and never forwards them', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed & 0xff;
    };
    const good = check(token());
    for (let i = 0; i < 5_000; i++) {
      // Half pure noise, half a real request with a few bytes mutated.
      const pkt = i % 2 === 0 ? Buffer.from(Array.from({ length: rand() }, rand)) : Buffer.from(good);
      if (i % 2 === 1) for (let k = 0; k < 3; k++) pkt[20 + (rand() % (pkt.length - 20))] = rand();
      const d = decideFirstPacket(pkt, ctx());
      if ('forward' in d)
        expect(d.forward).toMatchObject({ host: '10.1.2.3', port: 20_000, routeId, keyId: 1 });
    }
  });
});

describe('normalizeIp', () => {
  it('returns IPv4 as is, IPv6 in RFC 5952 form, and nothing for names and zone ids', () => {
    expect(normalizeIp('10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('FD00:0:0:0:0:0:0:2')).toBe('fd00::2');
    expect(normalizeIp('::ffff:10.0.0.1', 6)).toBe('::ffff:a00:1');
    expect(normalizeIp('10.0.0.1', 6)).toBeUndefined();
    expect(normalizeIp('localhost')).toBeUndefined();
    expect(normalizeIp('fe80::1%eth0')).toBeUndefined();
  });
});
