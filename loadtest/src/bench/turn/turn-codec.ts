import { createHash, createHmac, randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import {
  crc32,
  MAGIC_COOKIE,
  messageType,
  parseHeader,
  STUN_HEADER_BYTES,
  StunAttr,
  StunClass,
  walkAttributes,
} from '@parley/shared/stun/stun-message.js';

/**
 * The client side of TURN (RFC 8656) that a load generator needs: Allocate,
 * CreatePermission and ChannelBind requests with long-term credentials, and
 * ChannelData framing. Pure: building and parsing only, IPv4 peers only.
 */
export const TurnMethod = {
  allocate: 0x003,
  createPermission: 0x008,
  channelBind: 0x009,
} as const;
export type TurnMethod = (typeof TurnMethod)[keyof typeof TurnMethod];

export const TurnAttr = {
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
  XOR_MAPPED_ADDRESS: 0x0020,
  ERROR_CODE: 0x0009,
  USERNAME: StunAttr.USERNAME,
  MESSAGE_INTEGRITY: StunAttr.MESSAGE_INTEGRITY,
  FINGERPRINT: StunAttr.FINGERPRINT,
} as const;

/** Channel numbers clients may bind (RFC 8656 §12). */
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x4ffe;
const UDP_PROTOCOL = 17;
const FINGERPRINT_XOR = 0x5354554e;

export interface Address {
  ip: string;
  port: number;
}

export interface LongTermAuth {
  username: string;
  realm: string;
  nonce: string;
  /** longTermKey(username, realm, password) */
  key: Buffer;
}

/** RFC 8489 §9.2.2: MD5(username ":" realm ":" password), the key for MESSAGE-INTEGRITY. */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/** XOR-MAPPED-ADDRESS style encoding of an IPv4 address (RFC 8489 §14.2). */
export function encodeXorAddress(a: Address): Buffer {
  if (!isIPv4(a.ip)) throw new Error(`only IPv4 peers are supported (got ${a.ip})`);
  const v = Buffer.alloc(8);
  v.writeUInt8(0x01, 1);
  v.writeUInt16BE(a.port ^ (MAGIC_COOKIE >>> 16), 2);
  const ip = a.ip.split('.').reduce((n, octet) => (n << 8) | Number(octet), 0) >>> 0;
  v.writeUInt32BE((ip ^ MAGIC_COOKIE) >>> 0, 4);
  return v;
}

export function decodeXorAddress(v: Uint8Array): Address | undefined {
  if (v.length < 8 || v[1] !== 0x01) return undefined;
  const b = Buffer.from(v.buffer, v.byteOffset, v.length);
  const port = b.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  const ip = (b.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
  return { ip: [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.'), port };
}

export interface TurnRequestOptions {
  method: TurnMethod;
  transactionId?: Buffer;
  requestedTransportUdp?: boolean;
  peer?: Address;
  channel?: number;
  /** Without it the request is unauthenticated (the first Allocate, which draws the 401 with realm and nonce). */
  auth?: LongTermAuth;
  fingerprint?: boolean;
}

/** Builds one request; MESSAGE-INTEGRITY covers everything before it, FINGERPRINT comes last. */
export function buildTurnRequest(o: TurnRequestOptions): Buffer {
  const tid = o.transactionId ?? randomBytes(12);
  const attrs: [number, Buffer][] = [];
  if (o.requestedTransportUdp)
    attrs.push([TurnAttr.REQUESTED_TRANSPORT, Buffer.from([UDP_PROTOCOL, 0, 0, 0])]);
  if (o.channel !== undefined) {
    if (o.channel < CHANNEL_MIN || o.channel > CHANNEL_MAX)
      throw new RangeError(`channel ${o.channel} out of range`);
    const c = Buffer.alloc(4);
    c.writeUInt16BE(o.channel, 0);
    attrs.push([TurnAttr.CHANNEL_NUMBER, c]);
  }
  if (o.peer) attrs.push([TurnAttr.XOR_PEER_ADDRESS, encodeXorAddress(o.peer)]);
  if (o.auth) {
    attrs.push([TurnAttr.USERNAME, Buffer.from(o.auth.username, 'utf8')]);
    attrs.push([TurnAttr.REALM, Buffer.from(o.auth.realm, 'utf8')]);
    attrs.push([TurnAttr.NONCE, Buffer.from(o.auth.nonce, 'utf8')]);
  }
  let size = STUN_HEADER_BYTES;
  for (const [, v] of attrs) size += 4 + pad4(v.length);
  const miAt = size;
  if (o.auth) size += 24;
  const fpAt = size;
  if (o.fingerprint) size += 8;
  const buf = Buffer.alloc(size);
  buf.writeUInt16BE(messageType(StunClass.request, o.method), 0);
  buf.writeUInt32BE(MAGIC_COOKIE, 4);
  tid.copy(buf, 8);
  let off = STUN_HEADER_BYTES;
  for (const [type, v] of attrs) {
    buf.writeUInt16BE(type, off);
    buf.writeUInt16BE(v.length, off + 2);
    v.copy(buf, off + 4);
    off += 4 + pad4(v.length);
  }
  if (o.auth) {
    // The length field counts up to and including MESSAGE-INTEGRITY while it is computed (RFC 8489 §14.5).
    buf.writeUInt16BE(miAt + 24 - STUN_HEADER_BYTES, 2);
    buf.writeUInt16BE(TurnAttr.MESSAGE_INTEGRITY, miAt);
    buf.writeUInt16BE(20, miAt + 2);
    createHmac('sha1', o.auth.key)
      .update(buf.subarray(0, miAt))
      .digest()
      .copy(buf, miAt + 4);
  }
  if (o.fingerprint) {
    buf.writeUInt16BE(size - STUN_HEADER_BYTES, 2);
    buf.writeUInt16BE(TurnAttr.FINGERPRINT, fpAt);
    buf.writeUInt16BE(4, fpAt + 2);
    buf.writeUInt32BE((crc32(buf, 0, fpAt) ^ FINGERPRINT_XOR) >>> 0, fpAt + 4);
  } else {
    buf.writeUInt16BE(size - STUN_HEADER_BYTES, 2);
  }
  return buf;
}

export interface TurnResponse {
  transactionId: Buffer;
  method: number;
  success: boolean;
  /** From ERROR-CODE, e.g. 401. */
  errorCode?: number;
  errorReason?: string;
  realm?: string;
  nonce?: string;
  relayed?: Address;
  mapped?: Address;
  lifetimeSeconds?: number;
  /** Offset of MESSAGE-INTEGRITY, when present, for verifyResponseIntegrity(). */
  integrityAt?: number;
}

/** Parses a STUN response from a TURN server; undefined for anything that is not one. */
export function parseTurnResponse(buf: Uint8Array): TurnResponse | undefined {
  const h = parseHeader(buf);
  if (!h.ok || (h.cls !== StunClass.successResponse && h.cls !== StunClass.errorResponse)) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const r: TurnResponse = {
    transactionId: Buffer.from(b.subarray(8, 20)),
    method: h.method,
    success: h.cls === StunClass.successResponse,
  };
  const text = (offset: number, length: number) => b.toString('utf8', offset, offset + length);
  const walked = walkAttributes(buf, ({ type, offset, length }) => {
    const value = b.subarray(offset, offset + length);
    switch (type) {
      case TurnAttr.ERROR_CODE:
        if (length >= 4) {
          r.errorCode = ((value[2] as number) & 0x7) * 100 + (value[3] as number);
          r.errorReason = text(offset + 4, length - 4);
        }
        break;
      case TurnAttr.REALM:
        r.realm = text(offset, length);
        break;
      case TurnAttr.NONCE:
        r.nonce = text(offset, length);
        break;
      case TurnAttr.XOR_RELAYED_ADDRESS:
        r.relayed = decodeXorAddress(value);
        break;
      case TurnAttr.XOR_MAPPED_ADDRESS:
        r.mapped = decodeXorAddress(value);
        break;
      case TurnAttr.LIFETIME:
        if (length === 4) r.lifetimeSeconds = value.readUInt32BE(0);
        break;
      case TurnAttr.MESSAGE_INTEGRITY:
        r.integrityAt = offset - 4;
        break;
    }
    return true;
  });
  return walked.ok ? r : undefined;
}

/** Checks a response's MESSAGE-INTEGRITY with the long-term key (servers sign their authenticated responses). */
export function verifyResponseIntegrity(buf: Uint8Array, integrityAt: number, key: Buffer): boolean {
  if (integrityAt + 24 > buf.length) return false;
  const copy = Buffer.from(buf.subarray(0, integrityAt));
  copy.writeUInt16BE(integrityAt + 24 - STUN_HEADER_BYTES, 2);
  const mac = createHmac('sha1', key).update(copy).digest();
  return mac.equals(Buffer.from(buf.subarray(integrityAt + 4, integrityAt + 24)));
}

/** A ChannelData message (RFC 8656 §12.4): channel, length, data. UDP needs no padding. */
export function channelData(channel: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(4 + data.length);
  buf.writeUInt16BE(channel, 0);
  buf.writeUInt16BE(data.length, 2);
  buf.set(data, 4);
  return buf;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}
