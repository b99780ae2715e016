/**
 * Just enough RFC 8489 STUN framing for a relay to read the USERNAME of an
 * ICE connectivity check. Pure and bounds-checked: it runs on untrusted
 * datagrams from anyone on the internet, so it never throws, never copies
 * the packet, and only decodes the one attribute value it returns.
 */

export const STUN_HEADER_BYTES = 20;
export const MAGIC_COOKIE = 0x2112a442;

export const StunClass = {
  request: 0,
  indication: 1,
  successResponse: 2,
  errorResponse: 3,
} as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

export const STUN_METHOD_BINDING = 0x001;

export const StunAttr = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  FINGERPRINT: 0x8028,
} as const;

/** RFC 8489 §14.3 says fewer than 509 bytes; RFC 5389 said fewer than 513, which we accept from older stacks. */
export const MAX_USERNAME_BYTES = 512;

export type StunRejection =
  | 'too_short'
  | 'not_stun_first_bits'
  | 'bad_length'
  | 'bad_cookie'
  | 'attribute_truncated'
  | 'attribute_overflow';

export type UsernameRejection = StunRejection | 'no_username' | 'username_too_long';

export interface StunHeader {
  type: number;
  cls: StunClass;
  method: number;
  /** Length of the attribute section (buf.length - 20). */
  length: number;
}

export type HeaderResult = ({ ok: true } & StunHeader) | { ok: false; reason: StunRejection };

/** Class bits C1 C0 sit at bits 8 and 4 of the 14-bit type (RFC 8489 §5). */
export function classOf(type: number): StunClass {
  return (((type >> 7) & 0x2) | ((type >> 4) & 0x1)) as StunClass;
}

/** Method bits are the type with the two class bits squeezed out. */
export function methodOf(type: number): number {
  return (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
}

export function messageType(cls: StunClass, method: number): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 0x1) << 4) |
    ((cls & 0x2) << 7)
  );
}

/**
 * Validates the fixed header. The length must match the datagram exactly:
 * one STUN message per UDP datagram, so trailing bytes mean it is not STUN.
 */
export function parseHeader(buf: Uint8Array): HeaderResult {
  if (buf.length < STUN_HEADER_BYTES) return { ok: false, reason: 'too_short' };
  const b0 = buf[0] as number;
  if ((b0 & 0xc0) !== 0) return { ok: false, reason: 'not_stun_first_bits' };
  const length = ((buf[2] as number) << 8) | (buf[3] as number);
  if (length % 4 !== 0 || length !== buf.length - STUN_HEADER_BYTES)
    return { ok: false, reason: 'bad_length' };
  if (readU32(buf, 4) !== MAGIC_COOKIE) return { ok: false, reason: 'bad_cookie' };
  const type = (b0 << 8) | (buf[1] as number);
  return { ok: true, type, cls: classOf(type), method: methodOf(type), length };
}

export function isBindingRequest(buf: Uint8Array): boolean {
  const h = parseHeader(buf);
  return h.ok && h.cls === StunClass.request && h.method === STUN_METHOD_BINDING;
}

/** Offset and length of one attribute's value inside the packet. */
export interface AttributeRef {
  type: number;
  offset: number;
  length: number;
}

export type WalkResult = { ok: true } | { ok: false; reason: StunRejection };

/**
 * Calls `visit` for each attribute in order until it returns false. Checks
 * every TLV against the end of the packet before handing it out, and the
 * 4-byte padding too, so a visitor can never read past the datagram.
 * Assumes parseHeader() already passed.
 */
export function walkAttributes(buf: Uint8Array, visit: (attr: AttributeRef) => boolean): WalkResult {
  const end = buf.length;
  let off = STUN_HEADER_BYTES;
  while (off < end) {
    if (off + 4 > end) return { ok: false, reason: 'attribute_truncated' };
    const type = ((buf[off] as number) << 8) | (buf[off + 1] as number);
    const length = ((buf[off + 2] as number) << 8) | (buf[off + 3] as number);
    const valueAt = off + 4;
    const padded = (length + 3) & ~3;
    if (valueAt + padded > end) return { ok: false, reason: 'attribute_overflow' };
    if (!visit({ type, offset: valueAt, length })) return { ok: true };
    off = valueAt + padded;
  }
  return { ok: true };
}

export type UsernameResult = { ok: true; username: string } | { ok: false; reason: UsernameRejection };

/**
 * USERNAME of a STUN message. Attributes after MESSAGE-INTEGRITY(-SHA256)
 * or FINGERPRINT are not covered by integrity and RFC 8489 §14 says to
 * ignore them, so a USERNAME there does not count. The whole message is
 * still walked, so a malformed tail rejects the packet.
 */
export function readUsername(buf: Uint8Array): UsernameResult {
  const h = parseHeader(buf);
  if (!h.ok) return h;
  let found: AttributeRef | undefined;
  let sealed = false;
  const walk = walkAttributes(buf, (a) => {
    if (
      a.type === StunAttr.MESSAGE_INTEGRITY ||
      a.type === StunAttr.MESSAGE_INTEGRITY_SHA256 ||
      a.type === StunAttr.FINGERPRINT
    ) {
      sealed = true;
    } else if (a.type === StunAttr.USERNAME && !sealed && !found) {
      found = a;
    }
    return true;
  });
  if (!walk.ok) return walk;
  if (!found) return { ok: false, reason: 'no_username' };
  if (found.length > MAX_USERNAME_BYTES) return { ok: false, reason: 'username_too_long' };
  // Decode only the attribute value, never the whole packet.
  const username = Buffer.from(buf.buffer, buf.byteOffset + found.offset, found.length).toString('utf8');
  return { ok: true, username };
}

/**
 * Splits an ICE connectivity-check USERNAME "<receiver ufrag>:<sender ufrag>"
 * (RFC 8445 §7.2.2). For a check sent by a client to our transceiver the
 * first half is the transceiver's ufrag, i.e. the routing token.
 */
export function splitIceUsername(username: string): { receiver: string; sender: string } | undefined {
  const colon = username.indexOf(':');
  if (colon <= 0 || colon === username.length - 1) return undefined;
  return { receiver: username.slice(0, colon), sender: username.slice(colon + 1) };
}

export type FingerprintCheck = 'absent' | 'ok' | 'bad';

/**
 * Checks FINGERPRINT (RFC 8489 §14.7: CRC-32 of the message up to the
 * attribute, XOR 0x5354554e) when present. It must be the last attribute;
 * one anywhere else is treated as bad. Assumes parseHeader() already passed.
 */
export function checkFingerprint(buf: Uint8Array): FingerprintCheck {
  const at = buf.length - 8;
  if (at < STUN_HEADER_BYTES) return 'absent';
  let last: AttributeRef | undefined;
  let misplaced = false;
  const walk = walkAttributes(buf, (a) => {
    if (a.type === StunAttr.FINGERPRINT && a.offset !== buf.length - 4) misplaced = true;
    last = a;
    return true;
  });
  if (!walk.ok || misplaced) return 'bad';
  if (!last || last.type !== StunAttr.FINGERPRINT) return 'absent';
  if (last.length !== 4) return 'bad';
  // The CRC covers the header with the length field as sent (it already includes FINGERPRINT).
  const expected = (crc32(buf, 0, at) ^ 0x5354554e) >>> 0;
  return readU32(buf, at + 4) === expected ? 'ok' : 'bad';
}

function readU32(buf: Uint8Array, off: number): number {
  return (
    (((buf[off] as number) << 24) |
      ((buf[off + 1] as number) << 16) |
      ((buf[off + 2] as number) << 8) |
      (buf[off + 3] as number)) >>>
    0
  );
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Plain CRC-32 (ISO-HDLC); zlib.crc32 is not in every Node 20 we support. */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
