import { FIXTURE_ICE_PWD, FIXTURE_NAMES, loadFixture } from '@parley/shared/stun/fixtures/fixtures.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { readUsername, splitIceUsername } from '@parley/shared/stun/stun-message.js';
import { bump, fuzz, fuzzBytes, fuzzFloor, fuzzTimeout, invariant } from '@parley/shared/testing/fuzz.js';
import { stunMessageArb } from '@parley/shared/testing/fuzz-stun.js';
import {
  encodeToken,
  makeKeyring,
  routeIdOf,
  tokenId,
  verifyToken,
} from '@parley/shared/token/routing-token.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bindingRequestToken,
  decideFirstPacket,
  type FirstPacketContext,
  type RouteTarget,
} from './first-packet.js';
import { DROP_REASONS, RelayCounters } from './relay-counters.js';
import { encodeV1Token } from './testing/v1-token.js';

/**
 * The relay's first-packet path faces the whole internet. Whatever arrives
 * from a source with no flow, decideFirstPacket must either open a flow to
 * the one announced address of the transceiver a valid token names, or drop
 * with a reason the counters know; never throw. Dropped inputs, counted the
 * way the relay counts them, must add up to exactly the inputs rejected.
 */
const NOW_MS = 1_900_000_000_000;
const nowS = NOW_MS / 1000;
const keyring = makeKeyring([{ id: 1, secret: Buffer.alloc(32, 0x11) }]);
const otherKeyring = makeKeyring([{ id: 9, secret: Buffer.alloc(32, 0x22) }]);
const liveRoute = routeIdOf('tx-live');
const routes = new Map<string, RouteTarget>([[liveRoute, { address: '10.1.2.3', port: 20_000 }]]);
const nonce = (n: number) => Buffer.alloc(6, n);

const tokens = {
  valid: encodeToken(keyring, { routeId: liveRoute, expiresAt: nowS + 300 }, nonce(1)),
  expired: encodeToken(keyring, { routeId: liveRoute, expiresAt: nowS - 1 }, nonce(2)),
  unknownKey: encodeToken(otherKeyring, { routeId: liveRoute, expiresAt: nowS + 300 }, nonce(3)),
  unknownRoute: encodeToken(keyring, { routeId: routeIdOf('tx-gone'), expiresAt: nowS + 300 }, nonce(4)),
  v1: encodeV1Token(keyring.signing, { routeId: liveRoute, port: 22, expiresAt: nowS + 300 }),
  // Version 3: a transceiver discovery does not know, reachable through the address it signed.
  signedTarget: encodeToken(
    keyring,
    {
      routeId: routeIdOf('tx-offline'),
      expiresAt: nowS + 300,
      target: { address: '10.9.9.9', port: 20_001 },
    },
    nonce(5),
  ),
  revoked: encodeToken(keyring, { routeId: liveRoute, expiresAt: nowS + 300 }, nonce(6)),
};
const revokedId = tokenId(tokens.revoked);
const usernames = Object.values(tokens).map((t) => `${t}:Cl1e`);
const samples = [
  ...FIXTURE_NAMES.map(loadFixture),
  ...usernames.map((username) => buildBindingRequest({ username, password: FIXTURE_ICE_PWD })),
  Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 1, 0, 12, 1, 0, 0, 0]), // DTLS ClientHello-ish
  Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 9, 9]), // RTP
];

const KNOWN_DROPS = new Set<string>(DROP_REASONS);

describe('decideFirstPacket under fuzzing', () => {
  it(
    'opens flows only to the announced transceiver for a valid token, and counts every other input as a named drop',
    () => {
      const counters = new RelayCounters();
      const tally = new Map<string, number>();
      let admitCalls = 0;
      let inputs = 0;
      let forwarded = 0;
      let rejected = 0;
      const ctx: FirstPacketContext = {
        keyring,
        nowMs: NOW_MS,
        resolveRoute: (id) => routes.get(id),
        family: 4,
        // Every 50th HMAC is refused, as a per-IP limiter would.
        admit: () => ++admitCalls % 50 !== 0,
        isRevoked: (id) => id === revokedId,
        useSignedTarget: true,
      };
      const arb = fc.oneof(
        { arbitrary: stunMessageArb({ usernames, passwords: [FIXTURE_ICE_PWD] }), weight: 3 },
        { arbitrary: fuzzBytes(samples), weight: 2 },
      );
      fuzz(arb, (msg) => {
        inputs++;
        // Runs on every packet of a known flow (re-routing): never throws either.
        const t = bindingRequestToken(msg);
        invariant(t === undefined || typeof t === 'string', 'bindingRequestToken gave a non-string');
        const decision = decideFirstPacket(msg, ctx);
        if ('forward' in decision) {
          forwarded++;
          // Never an open proxy: only the announced address and port, or the one a key holder signed.
          const { forward } = decision;
          const user = readUsername(msg);
          invariant(user.ok, 'forwarded a packet without a USERNAME');
          const receiver = splitIceUsername(user.username)?.receiver ?? '';
          const v = verifyToken(keyring, receiver, nowS);
          invariant(v.ok && forward.token === receiver, 'forwarded on a token that does not verify');
          invariant(forward.tokenId !== revokedId, 'forwarded on a revoked token');
          if (forward.via === 'discovery')
            invariant(
              v.claims.routeId === liveRoute && forward.host === '10.1.2.3' && forward.port === 20_000,
              'forwarded to an unannounced target',
            );
          else
            invariant(
              forward.host === v.claims.target?.address && forward.port === v.claims.target?.port,
              'forwarded somewhere the token did not sign',
            );
          bump(tally, `forward_${forward.via}`);
        } else {
          rejected++;
          invariant(KNOWN_DROPS.has(decision.drop), () => `drop reason ${decision.drop} has no counter`);
          counters.drop(decision.drop);
          bump(tally, decision.drop);
        }
      });
      expect(forwarded + rejected).toBe(inputs);
      expect(counters.snapshot().droppedPackets).toBe(rejected);
      // Every path was exercised, down to the HMAC and the route lookup.
      for (const outcome of [
        'forward_discovery',
        'forward_token',
        'token_revoked',
        'no_flow_dtls',
        'no_flow_rtp',
        'stun_malformed',
        'stun_not_binding_request',
        'stun_bad_fingerprint',
        'stun_no_username',
        'username_malformed',
        'token_malformed',
        'token_version',
        'token_unknown_key',
        'token_bad_signature',
        'token_expired',
        'route_unknown',
        'rate_limited',
      ])
        expect(tally.get(outcome) ?? 0, outcome).toBeGreaterThan(fuzzFloor(20));
    },
    fuzzTimeout(),
  );
});
