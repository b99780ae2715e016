import { createHmac, randomBytes } from 'node:crypto';
import {
  crc32,
  MAGIC_COOKIE,
  messageType,
  STUN_HEADER_BYTES,
  STUN_METHOD_BINDING,
  StunAttr,
  StunClass,
} from './stun-message.js';

/**
 * Builds STUN messages: for tests and load generators that have to speak
 * like an ICE client (the relay itself never builds STUN).
 */
export interface StunAttributeInput {
  type: number;
  value: Uint8Array;
}

export interface BuildOptions {
  type: number;
  /** 12 bytes; random when absent. */
  transactionId?: Uint8Array;
  attributes?: readonly StunAttributeInput[];
  /** Adds MESSAGE-INTEGRITY keyed with this short-term password (the receiver's ice-pwd). */
  password?: string;
  /** Adds FINGERPRINT last, as ICE agents do. */
  fingerprint?: boolean;
}

export function buildStunMessage(opts: BuildOptions): Buffer {
  const tid = opts.transactionId ?? randomBytes(12);
  if (tid.length !== 12) throw new Error('STUN transaction id must be 12 bytes');
  const attrs = opts.attributes ?? [];
  let size = STUN_HEADER_BYTES;
  for (const a of attrs) size += 4 + pad4(a.value.length);
  const miAt = size;
  if (opts.password !== undefined) size += 24;
  const fpAt = size;
  if (opts.fingerprint) size += 8;

  const buf = Buffer.alloc(size);
  buf.writeUInt16BE(opts.type, 0);
  buf.writeUInt32BE(MAGIC_COOKIE, 4);
  Buffer.from(tid).copy(buf, 8);
  let off = STUN_HEADER_BYTES;
  for (const a of attrs) {
    buf.writeUInt16BE(a.type, off);
    buf.writeUInt16BE(a.value.length, off + 2);
    Buffer.from(a.value).copy(buf, off + 4);
    off += 4 + pad4(a.value.length);
  }
  if (opts.password !== undefined) {
    // RFC 8489 §14.5: the HMAC covers the header with a length that already counts MESSAGE-INTEGRITY.
    buf.writeUInt16BE(miAt + 24 - STUN_HEADER_BYTES, 2);
    buf.writeUInt16BE(StunAttr.MESSAGE_INTEGRITY, miAt);
    buf.writeUInt16BE(20, miAt + 2);
    createHmac('sha1', opts.password)
      .update(buf.subarray(0, miAt))
      .digest()
      .copy(buf, miAt + 4);
  }
  buf.writeUInt16BE(size - STUN_HEADER_BYTES, 2);
  if (opts.fingerprint) {
    buf.writeUInt16BE(StunAttr.FINGERPRINT, fpAt);
    buf.writeUInt16BE(4, fpAt + 2);
    buf.writeUInt32BE((crc32(buf, 0, fpAt) ^ 0x5354554e) >>> 0, fpAt + 4);
  }
  return buf;
}

export interface BindingRequestOptions {
  /** "<receiver ufrag>:<sender ufrag>" for an ICE check. */
  username?: string;
  transactionId?: Uint8Array;
  password?: string;
  fingerprint?: boolean;
  /** PRIORITY, ICE-CONTROLLING and the like: placed after USERNAME, before MESSAGE-INTEGRITY. */
  attributes?: readonly StunAttributeInput[];
}

export const BINDING_REQUEST_TYPE = messageType(StunClass.request, STUN_METHOD_BINDING);

export function buildBindingRequest(opts: BindingRequestOptions = {}): Buffer {
  const attributes: StunAttributeInput[] = [];
  if (opts.username !== undefined) {
    attributes.push({ type: StunAttr.USERNAME, value: Buffer.from(opts.username, 'utf8') });
  }
  attributes.push(...(opts.attributes ?? []));
  return buildStunMessage({
    type: BINDING_REQUEST_TYPE,
    transactionId: opts.transactionId,
    attributes,
    password: opts.password,
    fingerprint: opts.fingerprint ?? true,
  });
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}
