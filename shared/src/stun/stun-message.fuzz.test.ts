import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bump, fuzz, fuzzBytes, fuzzFloor, fuzzTimeout, invariant } from '../testing/fuzz.js';
import { stunMessageArb } from '../testing/fuzz-stun.js';
import { FIXTURE_ICE_PWD, FIXTURE_NAMES, loadFixture } from './fixtures/fixtures.js';
import { buildBindingRequest } from './stun-build.js';
import {
  checkFingerprint,
  MAX_USERNAME_BYTES,
  parseHeader,
  readUsername,
  STUN_HEADER_BYTES,
  splitIceUsername,
  walkAttributes,
} from './stun-message.js';

/**
 * The relay's STUN reader runs on datagrams from anyone: whatever arrives,
 * it must answer with a result or a named rejection, never throw, and never
 * hand out an attribute that reaches past the datagram.
 */
const HEADER_REJECTIONS = new Set(['too_short', 'not_stun_first_bits', 'bad_length', 'bad_cookie']);
const WALK_REJECTIONS = new Set(['attribute_truncated', 'attribute_overflow']);
const USERNAME_REJECTIONS = new Set([
  ...HEADER_REJECTIONS,
  ...WALK_REJECTIONS,
  'no_username',
  'username_too_long',
]);
const FINGERPRINT_RESULTS = new Set(['absent', 'ok', 'bad']);

const captured = FIXTURE_NAMES.map(loadFixture);
const samples = [
  ...captured,
  buildBindingRequest({ username: 'abcd:efgh', password: FIXTURE_ICE_PWD }),
  buildBindingRequest({ username: 'abcd:efgh', fingerprint: false }),
];
const usernames = ['abcd:efgh', ...captured.map((p) => (readUsername(p) as { username: string }).username)];

function checkOne(buf: Buffer, tally: Map<string, number>): void {
  const header = parseHeader(buf);
  const user = readUsername(buf);
  if (!header.ok) {
    invariant(HEADER_REJECTIONS.has(header.reason), () => `unnamed header rejection ${header.reason}`);
    invariant(!user.ok && user.reason === header.reason, 'readUsername disagrees with parseHeader');
    bump(tally, header.reason);
    return;
  }
  invariant(header.length === buf.length - STUN_HEADER_BYTES, 'header length is not the datagram length');
  const walk = walkAttributes(buf, (a) => {
    // Every attribute handed out lies inside the datagram, padding included.
    invariant(
      a.offset >= STUN_HEADER_BYTES + 4 && a.offset + ((a.length + 3) & ~3) <= buf.length,
      () => `attribute at ${a.offset}+${a.length} outside ${buf.length} bytes`,
    );
    return true;
  });
  if (!walk.ok) invariant(WALK_REJECTIONS.has(walk.reason), () => `unnamed walk rejection ${walk.reason}`);
  invariant(FINGERPRINT_RESULTS.has(checkFingerprint(buf)), 'fingerprint check gave no verdict');
  if (user.ok) {
    invariant(Buffer.byteLength(user.username) <= MAX_USERNAME_BYTES * 3, 'USERNAME longer than the cap');
    const parts = splitIceUsername(user.username);
    if (parts) invariant(`${parts.receiver}:${parts.sender}` === user.username, 'split lost characters');
    bump(tally, 'username');
  } else {
    invariant(USERNAME_REJECTIONS.has(user.reason), () => `unnamed USERNAME rejection ${user.reason}`);
    bump(tally, user.reason);
  }
}

describe('STUN reader under fuzzing', () => {
  it(
    'never throws on structure-aware Binding Requests, mutated captures and random bytes, and names every rejection',
    () => {
      const tally = new Map<string, number>();
      const inputs = fc.oneof(
        { arbitrary: stunMessageArb({ usernames, passwords: [FIXTURE_ICE_PWD] }), weight: 3 },
        { arbitrary: fuzzBytes(samples), weight: 2 },
      );
      fuzz(inputs, (buf) => checkOne(buf, tally));
      // The generators must reach deep: many inputs parse far enough to find a USERNAME, many hit each fault.
      for (const outcome of ['username', 'no_username', 'attribute_overflow', 'bad_length', 'too_short'])
        expect(tally.get(outcome) ?? 0, outcome).toBeGreaterThan(fuzzFloor(500));
    },
    fuzzTimeout(),
  );

  it('no single damaged byte passes FINGERPRINT (the CRC covers every byte)', () => {
    const good = buildBindingRequest({ username: 'abcd:efgh', password: FIXTURE_ICE_PWD });
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = Buffer.from(good);
        b[at] = (b[at] as number) ^ x;
        // A flip in the header may make it not STUN at all; anywhere else the CRC (or a damaged TLV) catches it.
        if (parseHeader(b).ok) invariant(checkFingerprint(b) !== 'ok', `flip at ${at} passed FINGERPRINT`);
      }),
      { seed: 1, numRuns: 2_000 },
    );
  });
});
