import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bump, FUZZ_SEED, fuzz, fuzzFloor, fuzzTimeout, invariant } from '../testing/fuzz.js';
import {
  encodeToken,
  makeKeyring,
  TOKEN_NONCE_BYTES,
  type TokenRejection,
  verifyToken,
} from './routing-token.js';

/**
 * The routing-token codec under fuzzing: tokens signed with generated
 * claims, then damaged the way an attacker or a broken client would (bits
 * flipped in the signed bytes or the MAC and re-encoded, characters
 * replaced, cut or added, non-canonical base64), plus arbitrary strings.
 * verifyToken must never throw, must name every rejection, and must accept
 * a token only if its 28 bytes are exactly the ones that were signed.
 */
const NOW_S = 1_900_000_000;
const keyring = makeKeyring([
  { id: 3, secret: Buffer.alloc(32, 0x33) },
  { id: 200, secret: Buffer.alloc(48, 0x44) },
]);
const rotatedOut = makeKeyring([{ id: 4, secret: Buffer.alloc(32, 0x55) }]);
const REJECTIONS = new Set<TokenRejection>([
  'malformed',
  'version',
  'unknown_key',
  'bad_signature',
  'expired',
]);

interface Case {
  signed: string;
  token: string;
  routeId: string;
  expiresAt: number;
  target?: { address: string; port: number };
}

const claims = fc.record({
  routeId: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b).toString('hex')),
  expiresAt: fc.oneof(
    fc.integer({ min: NOW_S - 10, max: NOW_S + 7200 }),
    fc.integer({ min: 0, max: 0xffffffff }),
  ),
  nonce: fc.uint8Array({ minLength: TOKEN_NONCE_BYTES, maxLength: TOKEN_NONCE_BYTES }),
  // Version 2 (no target) or version 3 with an IPv4 or IPv6 target.
  target: fc.option(
    fc.record({
      address: fc.oneof(fc.ipV4(), fc.constantFrom('::1', 'fd00::2', '2001:db8::a:b:c', '::ffff:10.0.0.1')),
      port: fc.integer({ min: 1, max: 65535 }),
    }),
    { nil: undefined },
  ),
  signer: fc.constantFrom(keyring, makeKeyring([keyring.byId.get(200) as never]), rotatedOut),
});

const damage = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('bits' as const),
      flips: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('char' as const),
      at: fc.nat(),
      c: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('cut' as const), n: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('pad' as const),
      s: fc.constantFrom('=', '==', 'A', 'AA', ' ', '\n'),
    }),
    weight: 1,
  },
);

// Signing is the costly step (an HMAC), so a pool of signed tokens is built once, from the same seed.
const pool = fc.sample(claims, { seed: FUZZ_SEED, numRuns: 512 }).map((c) => {
  const signed = encodeToken(
    c.signer,
    { routeId: c.routeId, expiresAt: c.expiresAt, target: c.target },
    Buffer.from(c.nonce),
  );
  // The canonical spelling of the target, as verifyToken reports it.
  const v = verifyToken(c.signer, signed, 0);
  return { signed, routeId: c.routeId, expiresAt: c.expiresAt, target: v.ok ? v.claims.target : undefined };
});

const cases: fc.Arbitrary<Case> = fc.oneof(
  {
    arbitrary: fc.tuple(fc.constantFrom(...pool), damage).map(([c, d]) => {
      const signed = c.signed;
      let token = signed;
      if (d.kind === 'bits') {
        const bytes = Buffer.from(signed, 'base64');
        for (const f of d.flips) {
          const bit = f % (bytes.length * 8);
          bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
        }
        token = bytes.toString('base64').replace(/=+$/, '');
      } else if (d.kind === 'char') {
        const at = d.at % (signed.length + 1);
        token = signed.slice(0, at) + d.c + signed.slice(at + 1);
      } else if (d.kind === 'cut') {
        token = signed.slice(0, d.n % (signed.length + 4));
      } else if (d.kind === 'pad') {
        token = signed + d.s;
      }
      return { signed, token, routeId: c.routeId, expiresAt: c.expiresAt, target: c.target };
    }),
    weight: 9,
  },
  {
    arbitrary: fc
      .oneof(fc.string({ maxLength: 60 }), fc.string({ minLength: 38, maxLength: 38, unit: 'binary' }))
      .map((token) => ({ signed: '', token, routeId: '', expiresAt: 0 })),
    weight: 1,
  },
);

describe('routing-token codec under fuzzing', () => {
  it(
    'accepts exactly the tokens it signed (unexpired, known key) and names every rejection',
    () => {
      const tally = new Map<string, number>();
      fuzz(cases, (c) => {
        const v = verifyToken(keyring, c.token, NOW_S);
        if (v.ok) {
          invariant(
            c.token === c.signed,
            () => `accepted a token it did not sign: ${JSON.stringify(c.token)}`,
          );
          invariant(
            v.claims.routeId === c.routeId &&
              v.claims.expiresAt === c.expiresAt &&
              v.claims.expiresAt > NOW_S,
            'claims did not round-trip',
          );
          bump(tally, 'ok');
        } else {
          invariant(REJECTIONS.has(v.reason), () => `unnamed rejection ${v.reason}`);
          if (c.token === c.signed && c.signed !== '') {
            // An intact token is refused only for its key or its age.
            invariant(
              v.reason === 'unknown_key' || v.reason === 'expired',
              () => `intact token refused: ${v.reason}`,
            );
          }
          bump(tally, v.reason);
        }
      });
      for (const outcome of ['ok', ...REJECTIONS])
        expect(tally.get(outcome) ?? 0, outcome).toBeGreaterThan(fuzzFloor(100));
    },
    fuzzTimeout(),
  );
});
