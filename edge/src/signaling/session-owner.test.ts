import { describe, expect, it } from 'vitest';
import { ownerBoundSessionIds, plainSessionIds } from './session-owner.js';

const ID = '0123456789ab-AAAAAAAAAAAAAAAAAAAAAA';

describe('ownerBoundSessionIds', () => {
  const ids = ownerBoundSessionIds('owner-test-secret-with-at-least-32-chars');

  it('resolves a public id only for the subject it was minted for', () => {
    const pub = ids.publicId(ID, 'alice');
    expect(pub).toMatch(/^0123456789ab-A{22}\.[A-Za-z0-9_-]{22}$/);
    expect(ids.resolve(pub, 'alice')).toBe(ID);
    expect(ids.resolve(pub, 'bob')).toBeUndefined();
    expect(ids.resolve(pub, undefined)).toBeUndefined();
    expect(ids.resolve(ID, 'alice')).toBeUndefined();
  });

  it('refuses tags that were altered, truncated or minted with another secret', () => {
    const pub = ids.publicId(ID, 'alice');
    const flipped = `${pub.slice(0, -1)}${pub.endsWith('A') ? 'B' : 'A'}`;
    expect(ids.resolve(flipped, 'alice')).toBeUndefined();
    expect(ids.resolve(pub.slice(0, -1), 'alice')).toBeUndefined();
    expect(ids.resolve(`${pub}A`, 'alice')).toBeUndefined();
    const other = ownerBoundSessionIds('another-secret-with-at-least-32-characters');
    expect(other.resolve(pub, 'alice')).toBeUndefined();
    // A tag over another session id does not move to this one.
    const second = ids.publicId('0123456789ab-BBBBBBBBBBBBBBBBBBBBBB', 'alice');
    expect(ids.resolve(`${ID}${second.slice(second.lastIndexOf('.'))}`, 'alice')).toBeUndefined();
  });

  it('binds subject-less tokens to the empty subject, apart from named ones', () => {
    const pub = ids.publicId(ID, undefined);
    expect(ids.resolve(pub, undefined)).toBe(ID);
    expect(ids.resolve(pub, '')).toBe(ID);
    expect(ids.resolve(pub, 'alice')).toBeUndefined();
  });
});

describe('plainSessionIds (auth off)', () => {
  it('passes ids through', () => {
    expect(plainSessionIds.publicId(ID, undefined)).toBe(ID);
    expect(plainSessionIds.resolve(ID, undefined)).toBe(ID);
  });
});
