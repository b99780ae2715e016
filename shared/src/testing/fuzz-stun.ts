import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { BINDING_REQUEST_TYPE, buildStunMessage } from '../stun/stun-build.js';
import { crc32, STUN_HEADER_BYTES, StunAttr } from '../stun/stun-message.js';

/**
 * Structure-aware STUN inputs for the fuzz tests: well-formed Binding
 * Requests built from generated attributes (the USERNAME a real ICE check
 * would carry, or a damaged one; MESSAGE-INTEGRITY of the right key or not,
 * of 20 bytes or not; FINGERPRINT), then, half of the time, one structural
 * fault: the header's length, an attribute's length or type, the magic
 * cookie, or trailing bytes.
 */
export interface StunFuzzOptions {
  /** Good USERNAME values ("<receiver ufrag>:<sender ufrag>"). */
  usernames: readonly string[];
  /** ICE passwords that MESSAGE-INTEGRITY may be keyed with. */
  passwords: readonly string[];
}

const ATTR_PRIORITY = 0x0024;
const ATTR_USE_CANDIDATE = 0x0025;
const ATTR_ICE_CONTROLLING = 0x802a;

function usernameValue(usernames: readonly string[]): fc.Arbitrary<Buffer> {
  const good = fc.constantFrom(...usernames);
  return fc.oneof(
    { arbitrary: good.map((u) => Buffer.from(u)), weight: 6 },
    // The same name with one character changed, dropped or the colon moved.
    {
      arbitrary: fc
        .tuple(good, fc.nat(), fc.constantFrom('A', ':', '=', '\u00e9', '\0', ''))
        .map(([u, at, c]) => {
          const i = at % u.length;
          return Buffer.from(u.slice(0, i) + c + u.slice(i + 1));
        }),
      weight: 3,
    },
    { arbitrary: fc.string({ maxLength: 80 }).map((s) => Buffer.from(s)), weight: 1 },
    { arbitrary: fc.integer({ min: 500, max: 700 }).map((n) => Buffer.alloc(n, 0x61)), weight: 1 },
  );
}

interface Plan {
  type: number;
  attributes: { type: number; value: Uint8Array }[];
  password: string | undefined;
  fingerprint: boolean;
  fault: { kind: number; at: number; value: number } | null;
}

export function stunMessageArb(opts: StunFuzzOptions): fc.Arbitrary<Buffer> {
  const attribute = fc.oneof(
    {
      arbitrary: usernameValue(opts.usernames).map((value) => ({ type: StunAttr.USERNAME, value })),
      weight: 4,
    },
    {
      arbitrary: fc
        .uint8Array({ minLength: 4, maxLength: 4 })
        .map((value) => ({ type: ATTR_PRIORITY, value })),
      weight: 1,
    },
    { arbitrary: fc.constant({ type: ATTR_USE_CANDIDATE, value: new Uint8Array(0) }), weight: 1 },
    {
      arbitrary: fc
        .uint8Array({ minLength: 8, maxLength: 8 })
        .map((value) => ({ type: ATTR_ICE_CONTROLLING, value })),
      weight: 1,
    },
    // A hand-placed integrity or fingerprint: wrong length, wrong place, or garbage.
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            StunAttr.MESSAGE_INTEGRITY,
            StunAttr.MESSAGE_INTEGRITY_SHA256,
            StunAttr.FINGERPRINT,
          ),
          fc.uint8Array({ maxLength: 36 }),
        )
        .map(([type, value]) => ({ type, value })),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 24 }))
        .map(([type, value]) => ({ type, value })),
      weight: 1,
    },
  );
  const plan: fc.Arbitrary<Plan> = fc.record({
    type: fc.oneof(
      { arbitrary: fc.constant(BINDING_REQUEST_TYPE), weight: 8 },
      { arbitrary: fc.constantFrom(0x0101, 0x0111, 0x0011, 0x0002, 0x0003), weight: 1 },
      { arbitrary: fc.integer({ min: 0, max: 0x3fff }), weight: 1 },
    ),
    attributes: fc.array(attribute, { maxLength: 5 }),
    password: fc
      .option(fc.constantFrom(...opts.passwords, 'not-the-password-0123456'), { freq: 3 })
      .map((p) => p ?? undefined),
    fingerprint: fc.boolean(),
    fault: fc.option(
      fc.record({
        kind: fc.integer({ min: 0, max: 5 }),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 0xffff }),
      }),
      { freq: 2 },
    ),
  });
  return plan.map(build);
}

// On Node 24 createHmac with a string key costs ~30 us, with a KeyObject ~4 us:
// the integrity is added here rather than by buildStunMessage to keep 100k inputs cheap.
const keys = new Map<string, KeyObject>();

/** Appends MESSAGE-INTEGRITY and FINGERPRINT as buildStunMessage does (RFC 8489 14.5, 14.7). */
function seal(body: Buffer, password: string | undefined, fingerprint: boolean): Buffer {
  let buf = body;
  if (password !== undefined) {
    let key = keys.get(password);
    if (!key) {
      key = createSecretKey(Buffer.from(password));
      keys.set(password, key);
    }
    const mi = Buffer.alloc(24);
    mi.writeUInt16BE(StunAttr.MESSAGE_INTEGRITY, 0);
    mi.writeUInt16BE(20, 2);
    buf.writeUInt16BE(buf.length + 24 - STUN_HEADER_BYTES, 2);
    createHmac('sha1', key).update(buf).digest().copy(mi, 4);
    buf = Buffer.concat([buf, mi]);
  }
  if (fingerprint) {
    const fp = Buffer.alloc(8);
    fp.writeUInt16BE(StunAttr.FINGERPRINT, 0);
    fp.writeUInt16BE(4, 2);
    buf.writeUInt16BE(buf.length + 8 - STUN_HEADER_BYTES, 2);
    fp.writeUInt32BE((crc32(buf) ^ 0x5354554e) >>> 0, 4);
    buf = Buffer.concat([buf, fp]);
  }
  return buf;
}

function build(p: Plan): Buffer {
  let buf = seal(
    buildStunMessage({ type: p.type, transactionId: Buffer.alloc(12, 7), attributes: p.attributes }),
    p.password,
    p.fingerprint,
  );
  const f = p.fault;
  if (!f) return buf;
  const attrOffsets: number[] = [];
  for (let off = STUN_HEADER_BYTES; off + 4 <= buf.length; ) {
    attrOffsets.push(off);
    off += 4 + ((buf.readUInt16BE(off + 2) + 3) & ~3);
  }
  const attrAt = attrOffsets.length > 0 ? (attrOffsets[f.at % attrOffsets.length] as number) : -1;
  switch (f.kind) {
    case 0: // header length off by a little, or arbitrary
      buf.writeUInt16BE(
        f.value % 2 ? (buf.length - STUN_HEADER_BYTES + (f.value % 9) - 4) & 0xffff : f.value,
        2,
      );
      break;
    case 1: // one attribute's length
      if (attrAt >= 0)
        buf.writeUInt16BE(
          f.value % 2 ? (buf.readUInt16BE(attrAt + 2) + (f.value % 9) - 4) & 0xffff : f.value,
          attrAt + 2,
        );
      break;
    case 2: // one attribute's type
      if (attrAt >= 0) buf.writeUInt16BE(f.value, attrAt);
      break;
    case 3: {
      // magic cookie or first bits
      const i = f.value % 2 ? 4 + (f.at % 4) : 0;
      buf[i] = (buf[i] as number) ^ (1 << (f.value % 8));
      break;
    }
    case 4: // trailing bytes
      buf = Buffer.concat([buf, Buffer.alloc(1 + (f.value % 8), f.value & 0xff)]);
      break;
    default: // truncated
      buf = buf.subarray(0, f.at % (buf.length + 1));
  }
  return buf;
}
