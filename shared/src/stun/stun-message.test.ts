import { describe, expect, it } from 'vitest';
import { makeKeyring, routeIdOf, verifyToken } from '../token/routing-token.js';
import {
  FIXTURE_EXPIRES_AT,
  FIXTURE_ICE_PWD,
  FIXTURE_KEY_ID,
  FIXTURE_NAMES,
  FIXTURE_SECRET_HEX,
  FIXTURE_TRANSCEIVER_ID,
  loadFixture,
} from './fixtures/fixtures.js';
import { buildBindingRequest, buildStunMessage, type StunAttributeInput } from './stun-build.js';
import {
  type AttributeRef,
  checkFingerprint,
  classOf,
  isBindingRequest,
  MAX_USERNAME_BYTES,
  messageType,
  methodOf,
  parseHeader,
  readUsername,
  STUN_METHOD_BINDING,
  StunAttr,
  StunClass,
  splitIceUsername,
  walkAttributes,
} from './stun-message.js';

const fixtureKeyring = makeKeyring([{ id: FIXTURE_KEY_ID, secret: Buffer.from(FIXTURE_SECRET_HEX, 'hex') }]);

function attributesOf(buf: Buffer): AttributeRef[] {
  const out: AttributeRef[] = [];
  const r = walkAttributes(buf, (a) => {
    out.push(a);
    return true;
  });
  expect(r.ok).toBe(true);
  return out;
}

describe('captured Binding Requests', () => {
  for (const name of FIXTURE_NAMES) {
    describe(name, () => {
      const pkt = loadFixture(name);

      it('is a well-formed Binding Request with a valid FINGERPRINT', () => {
        const h = parseHeader(pkt);
        expect(h).toMatchObject({
          ok: true,
          type: 0x0001,
          cls: StunClass.request,
          method: STUN_METHOD_BINDING,
        });
        expect(isBindingRequest(pkt)).toBe(true);
        expect(checkFingerprint(pkt)).toBe('ok');
      });

      it('carries "<routing token>:<client ufrag>" as USERNAME, and the token verifies', () => {
        const r = readUsername(pkt);
        if (!r.ok) throw new Error(`rejected: ${r.reason}`);
        const parts = splitIceUsername(r.username);
        expect(parts?.receiver).toHaveLength(38);
        expect(parts?.sender).toMatch(/^[A-Za-z0-9+/]{4,256}$/);
        const v = verifyToken(fixtureKeyring, parts?.receiver ?? '', FIXTURE_EXPIRES_AT - 1);
        if (!v.ok) throw new Error(`token rejected: ${v.reason}`);
        expect(v.claims.routeId).toBe(routeIdOf(FIXTURE_TRANSCEIVER_ID));
        expect(v.claims.expiresAt).toBe(FIXTURE_EXPIRES_AT);
      });

      it('is reproduced byte for byte by buildStunMessage (MESSAGE-INTEGRITY and FINGERPRINT included)', () => {
        const attrs: StunAttributeInput[] = attributesOf(pkt)
          .filter((a) => a.type !== StunAttr.MESSAGE_INTEGRITY && a.type !== StunAttr.FINGERPRINT)
          .map((a) => ({ type: a.type, value: pkt.subarray(a.offset, a.offset + a.length) }));
        const rebuilt = buildStunMessage({
          type: pkt.readUInt16BE(0),
          transactionId: pkt.subarray(8, 20),
          attributes: attrs,
          password: FIXTURE_ICE_PWD,
          fingerprint: true,
        });
        expect(rebuilt.toString('hex')).toBe(pkt.toString('hex'));
      });

      it('rejects every truncation without throwing', () => {
        for (let len = 0; len < pkt.length; len++) {
          const cut = pkt.subarray(0, len);
          const r = readUsername(cut);
          expect(r.ok, `length ${len}`).toBe(false);
          expect(isBindingRequest(cut)).toBe(false);
        }
      });

      it('with the header length patched to match, accepts a truncation only at an attribute boundary past USERNAME', () => {
        const attrs = attributesOf(pkt);
        const username = attrs.find((a) => a.type === StunAttr.USERNAME);
        if (!username) throw new Error('fixture has no USERNAME');
        const boundaries = new Set(attrs.map((a) => a.offset - 4));
        const usernameEnd = username.offset + ((username.length + 3) & ~3);
        const full = readUsername(pkt);
        for (let len = 20; len < pkt.length; len += 4) {
          const cut = Buffer.from(pkt.subarray(0, len));
          cut.writeUInt16BE(len - 20, 2);
          const r = readUsername(cut);
          if (boundaries.has(len) && len >= usernameEnd) expect(r, `length ${len}`).toEqual(full);
          else if (boundaries.has(len))
            expect(r, `length ${len}`).toEqual({ ok: false, reason: 'no_username' });
          else expect(r, `length ${len}`).toEqual({ ok: false, reason: 'attribute_overflow' });
        }
      });

      it('reports a corrupted FINGERPRINT as bad', () => {
        const bad = Buffer.from(pkt);
        bad[30] = (bad[30] as number) ^ 0x01;
        expect(checkFingerprint(bad)).toBe('bad');
      });
    });
  }
});

describe('parseHeader', () => {
  const good = buildBindingRequest({ username: 'abcd:efgh' });

  it('accepts a built Binding Request', () => {
    expect(parseHeader(good)).toMatchObject({ ok: true, length: good.length - 20 });
  });

  it('rejects a bad magic cookie', () => {
    const bad = Buffer.from(good);
    bad.writeUInt32BE(0x2112a443, 4);
    expect(parseHeader(bad)).toEqual({ ok: false, reason: 'bad_cookie' });
    expect(readUsername(bad)).toEqual({ ok: false, reason: 'bad_cookie' });
  });

  it('rejects a length that is not a multiple of 4, that disagrees with the datagram, or trailing bytes', () => {
    const notMultiple = Buffer.from(good);
    notMultiple.writeUInt16BE(good.length - 20 - 2, 2);
    expect(parseHeader(notMultiple)).toEqual({ ok: false, reason: 'bad_length' });
    const tooLong = Buffer.from(good);
    tooLong.writeUInt16BE(good.length - 20 + 4, 2);
    expect(parseHeader(tooLong)).toEqual({ ok: false, reason: 'bad_length' });
    const trailing = Buffer.concat([good, Buffer.alloc(4)]);
    expect(parseHeader(trailing)).toEqual({ ok: false, reason: 'bad_length' });
  });

  it('rejects packets whose first two bits are set and packets shorter than a header', () => {
    const rtp = Buffer.from(good);
    rtp[0] = 0x80;
    expect(parseHeader(rtp)).toEqual({ ok: false, reason: 'not_stun_first_bits' });
    expect(parseHeader(Buffer.alloc(19))).toEqual({ ok: false, reason: 'too_short' });
    expect(parseHeader(Buffer.alloc(0))).toEqual({ ok: false, reason: 'too_short' });
  });

  it('rejects non-STUN traffic seen on WebRTC ports', () => {
    // DTLS 1.2 ClientHello record header, RTP with Opus payload type, random junk.
    const dtls = Buffer.from('16fefd000000000000000000a1010000950000000000000095fefd', 'hex');
    const rtp = Buffer.from('806f0001000000640000abcd0102030405060708', 'hex');
    const junk = Buffer.from('hello world, not a stun message at all', 'utf8');
    for (const pkt of [dtls, rtp, junk]) {
      const r = readUsername(pkt);
      expect(r.ok).toBe(false);
      expect(isBindingRequest(pkt)).toBe(false);
    }
    expect(readUsername(dtls)).toEqual({ ok: false, reason: 'bad_length' });
    expect(readUsername(rtp)).toEqual({ ok: false, reason: 'not_stun_first_bits' });
  });
});

describe('message type', () => {
  it('maps Binding in every class to the RFC 8489 type values and back', () => {
    const expected: [StunClass, number][] = [
      [StunClass.request, 0x0001],
      [StunClass.indication, 0x0011],
      [StunClass.successResponse, 0x0101],
      [StunClass.errorResponse, 0x0111],
    ];
    for (const [cls, type] of expected) {
      expect(messageType(cls, STUN_METHOD_BINDING)).toBe(type);
      expect(classOf(type)).toBe(cls);
      expect(methodOf(type)).toBe(STUN_METHOD_BINDING);
    }
  });

  it('round-trips every method bit (TURN Allocate 0x003, and the highest method 0xfff)', () => {
    for (const method of [0x003, 0x00a, 0x0f0, 0xfff]) {
      for (const cls of [0, 1, 2, 3] as StunClass[]) {
        const t = messageType(cls, method);
        expect(t & 0xc000).toBe(0);
        expect(methodOf(t)).toBe(method);
        expect(classOf(t)).toBe(cls);
      }
    }
  });

  it('isBindingRequest is false for a Binding success response and for other methods', () => {
    const response = buildStunMessage({ type: messageType(StunClass.successResponse, STUN_METHOD_BINDING) });
    const allocate = buildStunMessage({ type: messageType(StunClass.request, 0x003) });
    expect(parseHeader(response).ok).toBe(true);
    expect(isBindingRequest(response)).toBe(false);
    expect(isBindingRequest(allocate)).toBe(false);
  });
});

describe('attributes and USERNAME', () => {
  it('rejects an attribute whose length runs past the end', () => {
    const pkt = buildBindingRequest({ username: 'abcd:efgh', fingerprint: false });
    pkt.writeUInt16BE(13, 22); // USERNAME claims 13 bytes; 12 are there (9 + 3 padding)
    expect(readUsername(pkt)).toEqual({ ok: false, reason: 'attribute_overflow' });
    pkt.writeUInt16BE(0xffff, 22);
    expect(readUsername(pkt)).toEqual({ ok: false, reason: 'attribute_overflow' });
  });

  it('rejects a malformed attribute after USERNAME too (the whole message must be sound)', () => {
    const pkt = buildBindingRequest({
      username: 'abcd:efgh',
      fingerprint: false,
      attributes: [{ type: 0x0024, value: Buffer.alloc(4) }],
    });
    pkt.writeUInt16BE(8, pkt.length - 6); // PRIORITY claims 8 bytes, 4 are there
    expect(readUsername(pkt)).toEqual({ ok: false, reason: 'attribute_overflow' });
  });

  it('walkAttributes reports a TLV header cut short when called on an unaligned buffer', () => {
    const pkt = buildBindingRequest({ username: 'abcd', fingerprint: false });
    const cut = Buffer.concat([pkt, Buffer.from([0, 6])]);
    expect(walkAttributes(cut, () => true)).toEqual({ ok: false, reason: 'attribute_truncated' });
  });

  it('reads USERNAME with padding, and follows 4-byte padding to later attributes', () => {
    for (const username of ['abcd:efgh', 'abcd:efg', 'abcd:ef', 'abcd:e', 'x'.repeat(40)]) {
      const pkt = buildBindingRequest({
        username,
        password: 'secretsecretsecretsecret',
        attributes: [{ type: 0x0024, value: Buffer.from([1, 2, 3, 4]) }],
      });
      expect(readUsername(pkt)).toEqual({ ok: true, username });
      expect(checkFingerprint(pkt)).toBe('ok');
      const types = attributesOf(pkt).map((a) => a.type);
      expect(types).toEqual([StunAttr.USERNAME, 0x0024, StunAttr.MESSAGE_INTEGRITY, StunAttr.FINGERPRINT]);
    }
  });

  it('reports a missing USERNAME', () => {
    expect(readUsername(buildBindingRequest({}))).toEqual({ ok: false, reason: 'no_username' });
  });

  it('ignores a USERNAME placed after MESSAGE-INTEGRITY (not covered by integrity)', () => {
    const pkt = buildStunMessage({
      type: 0x0001,
      attributes: [
        { type: StunAttr.MESSAGE_INTEGRITY, value: Buffer.alloc(20) },
        { type: StunAttr.USERNAME, value: Buffer.from('evil:user') },
      ],
    });
    expect(readUsername(pkt)).toEqual({ ok: false, reason: 'no_username' });
  });

  it('takes the first of two USERNAMEs', () => {
    const pkt = buildStunMessage({
      type: 0x0001,
      attributes: [
        { type: StunAttr.USERNAME, value: Buffer.from('first:one') },
        { type: StunAttr.USERNAME, value: Buffer.from('second:two') },
      ],
    });
    expect(readUsername(pkt)).toEqual({ ok: true, username: 'first:one' });
  });

  it('rejects an over-long USERNAME', () => {
    const ok = buildBindingRequest({ username: 'u'.repeat(MAX_USERNAME_BYTES) });
    const long = buildBindingRequest({ username: 'u'.repeat(MAX_USERNAME_BYTES + 1) });
    expect(readUsername(ok).ok).toBe(true);
    expect(readUsername(long)).toEqual({ ok: false, reason: 'username_too_long' });
  });

  it('reads the USERNAME from a subarray view without copying the packet', () => {
    const pkt = buildBindingRequest({ username: 'view:test' });
    const padded = Buffer.concat([Buffer.from('prefix'), pkt, Buffer.from('suffix')]);
    const view = padded.subarray(6, 6 + pkt.length);
    expect(readUsername(view)).toEqual({ ok: true, username: 'view:test' });
  });
});

describe('FINGERPRINT', () => {
  it('is absent when not sent, and bad when not last', () => {
    expect(checkFingerprint(buildBindingRequest({ username: 'a:b', fingerprint: false }))).toBe('absent');
    const notLast = buildStunMessage({
      type: 0x0001,
      attributes: [
        { type: StunAttr.FINGERPRINT, value: Buffer.alloc(4) },
        { type: StunAttr.USERNAME, value: Buffer.from('a:b') },
      ],
    });
    expect(checkFingerprint(notLast)).toBe('bad');
  });
});

describe('splitIceUsername', () => {
  it('splits at the first colon and refuses empty halves', () => {
    expect(splitIceUsername('abcd:efgh')).toEqual({ receiver: 'abcd', sender: 'efgh' });
    expect(splitIceUsername('abcd:ef:gh')).toEqual({ receiver: 'abcd', sender: 'ef:gh' });
    expect(splitIceUsername('abcd')).toBeUndefined();
    expect(splitIceUsername(':efgh')).toBeUndefined();
    expect(splitIceUsername('abcd:')).toBeUndefined();
  });
});
