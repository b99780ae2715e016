import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import {
  parseHeader,
  STUN_HEADER_BYTES,
  STUN_METHOD_BINDING,
  StunAttr,
  StunClass,
  walkAttributes,
} from '@parley/shared/stun/stun-message.js';

/**
 * What the transceiver checks on every STUN Binding Request before werift
 * sees it. werift answers any Binding Request without checking USERNAME or
 * MESSAGE-INTEGRITY; without this, anyone who learned a ufrag (it crosses
 * the relay in clear) could nominate their own address and take the call.
 * It is also what admits a new address to the transceiver's one socket.
 */
export type StunVerdict =
  | { ok: true; useCandidate: boolean }
  | { ok: false; reason: 'not_stun' | 'not_binding_request' | 'bad_username' | 'bad_integrity' };

/** RFC 8445 §16.1. */
const ATTR_USE_CANDIDATE = 0x0025;
const HMAC_SHA1_BYTES = 20;

export function isStunPacket(data: Buffer): boolean {
  // RFC 7983: first byte 0..3 is STUN; the magic cookie confirms it.
  return data.length >= 20 && (data[0] as number) < 4 && data.readUInt32BE(4) === 0x2112a442;
}

export function checkBindingRequest(
  data: Buffer,
  localUfrag: string,
  remoteUfrag: string,
  localPassword: Buffer,
): StunVerdict {
  const h = parseHeader(data);
  if (!h.ok) return { ok: false, reason: 'not_stun' };
  if (h.cls !== StunClass.request || h.method !== STUN_METHOD_BINDING)
    return { ok: false, reason: 'not_binding_request' };
  let username = -1;
  let usernameLength = 0;
  let integrity = -1;
  let useCandidate = false;
  const walk = walkAttributes(data, (a) => {
    // Attributes after MESSAGE-INTEGRITY are not covered by it (RFC 8489 §14.5): stop there.
    if (a.type === StunAttr.MESSAGE_INTEGRITY) {
      // One of another length is simply bad: comparing it would throw (timingSafeEqual needs equal lengths).
      integrity = a.length === HMAC_SHA1_BYTES ? a.offset - 4 : -1;
      return a.length === HMAC_SHA1_BYTES;
    }
    if (a.type === StunAttr.USERNAME && username < 0) {
      username = a.offset;
      usernameLength = a.length;
    } else if (a.type === ATTR_USE_CANDIDATE) useCandidate = true;
    return true;
  });
  if (!walk.ok || integrity < 0) return { ok: false, reason: 'bad_integrity' };
  if (!integrityMatches(data, integrity, localPassword)) return { ok: false, reason: 'bad_integrity' };
  const expected = `${localUfrag}:${remoteUfrag}`;
  if (
    username < 0 ||
    usernameLength !== Buffer.byteLength(expected) ||
    data.toString('utf8', username, username + usernameLength) !== expected
  )
    return { ok: false, reason: 'bad_username' };
  return { ok: true, useCandidate };
}

/**
 * The HMAC covers the message up to the attribute, with the header's length
 * rewritten to end just after MESSAGE-INTEGRITY (RFC 8489 §14.5).
 */
function integrityMatches(data: Buffer, at: number, password: Buffer): boolean {
  const key = keyObjectOf(password);
  const header = Buffer.from(data.subarray(0, STUN_HEADER_BYTES));
  header.writeUInt16BE(at + 4 + HMAC_SHA1_BYTES - STUN_HEADER_BYTES, 2);
  const mac = createHmac('sha1', key).update(header).update(data.subarray(STUN_HEADER_BYTES, at)).digest();
  return timingSafeEqual(mac, data.subarray(at + 4, at + 4 + HMAC_SHA1_BYTES));
}

// On Node 24 (OpenSSL 3) createHmac with a raw key costs ~30 us, ~4 us with a
// KeyObject: a session passes the same password Buffer for every check, so make it once.
const keyObjects = new WeakMap<Buffer, KeyObject>();
function keyObjectOf(password: Buffer): KeyObject {
  let key = keyObjects.get(password);
  if (key === undefined) {
    key = createSecretKey(password);
    keyObjects.set(password, key);
  }
  return key;
}

/** The receiver half of a Binding Request's USERNAME (our ufrag), for admitting a new address. */
export function bindingRequestReceiverUfrag(data: Buffer): string | undefined {
  const h = parseHeader(data);
  if (!h.ok || h.cls !== StunClass.request || h.method !== STUN_METHOD_BINDING) return undefined;
  let found: string | undefined;
  walkAttributes(data, (a) => {
    if (a.type === StunAttr.MESSAGE_INTEGRITY) return false;
    if (a.type !== StunAttr.USERNAME) return true;
    const colon = data.indexOf(0x3a, a.offset);
    if (colon > a.offset && colon < a.offset + a.length) found = data.toString('latin1', a.offset, colon);
    return false;
  });
  return found;
}
