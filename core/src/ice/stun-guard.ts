import { parseMessage } from 'werift';

/**
 * What the transceiver checks on every STUN Binding Request before werift
 * sees it. werift 0.24 answers any Binding Request without checking USERNAME
 * or MESSAGE-INTEGRITY; without this, anyone who learned a ufrag (it crosses
 * the relay in clear) could nominate their own address and take the call.
 */
export type StunVerdict =
  | { ok: true; useCandidate: boolean }
  | { ok: false; reason: 'not_stun' | 'not_binding_request' | 'bad_username' | 'bad_integrity' };

const BINDING_REQUEST = 0x0001;

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
  if (!isStunPacket(data)) return { ok: false, reason: 'not_stun' };
  if (data.readUInt16BE(0) !== BINDING_REQUEST) return { ok: false, reason: 'not_binding_request' };
  // parseMessage with a key returns undefined unless MESSAGE-INTEGRITY is present and valid.
  const msg = parseMessage(data, localPassword);
  if (!msg) return { ok: false, reason: 'bad_integrity' };
  if (msg.getAttributeValue('USERNAME') !== `${localUfrag}:${remoteUfrag}`)
    return { ok: false, reason: 'bad_username' };
  return { ok: true, useCandidate: msg.attributesKeys.includes('USE-CANDIDATE') };
}
