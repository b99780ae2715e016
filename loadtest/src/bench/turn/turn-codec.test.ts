import { createHmac } from 'node:crypto';
import { parseHeader, StunClass } from '@parley/shared/stun/stun-message.js';
import { describe, expect, it } from 'vitest';
import {
  buildTurnRequest,
  CHANNEL_MIN,
  channelData,
  decodeXorAddress,
  encodeXorAddress,
  longTermKey,
  parseTurnResponse,
  TurnAttr,
  TurnMethod,
  verifyResponseIntegrity,
} from './turn-codec.js';

describe('TURN codec', () => {
  it('encodes XOR addresses as RFC 5769 §2.2 does (192.0.2.1:32853)', () => {
    const v = encodeXorAddress({ ip: '192.0.2.1', port: 32853 });
    expect(v.toString('hex')).toBe('0001a147e112a643');
    expect(decodeXorAddress(v)).toEqual({ ip: '192.0.2.1', port: 32853 });
    expect(() => encodeXorAddress({ ip: '::1', port: 1 })).toThrow(/IPv4/);
  });

  it('builds a ChannelBind with integrity over everything before it and a valid fingerprint last', () => {
    const key = longTermKey('bench', 'parley.bench', 'pw');
    const msg = buildTurnRequest({
      method: TurnMethod.channelBind,
      peer: { ip: '127.0.0.1', port: 40000 },
      channel: CHANNEL_MIN,
      auth: { username: 'bench', realm: 'parley.bench', nonce: 'abc', key },
      fingerprint: true,
    });
    const h = parseHeader(msg);
    expect(h).toMatchObject({ ok: true, cls: StunClass.request, method: TurnMethod.channelBind });
    // FINGERPRINT is the last 8 bytes, MESSAGE-INTEGRITY the 24 before.
    const miAt = msg.length - 8 - 24;
    expect(msg.readUInt16BE(miAt)).toBe(TurnAttr.MESSAGE_INTEGRITY);
    expect(msg.readUInt16BE(msg.length - 8)).toBe(TurnAttr.FINGERPRINT);
    const signed = Buffer.from(msg.subarray(0, miAt));
    signed.writeUInt16BE(miAt + 24 - 20, 2);
    expect(
      createHmac('sha1', key)
        .update(signed)
        .digest()
        .equals(msg.subarray(miAt + 4, miAt + 24)),
    ).toBe(true);
    expect(verifyResponseIntegrity(msg, miAt, key)).toBe(true);
    expect(verifyResponseIntegrity(msg, miAt, longTermKey('bench', 'parley.bench', 'wrong'))).toBe(false);
    expect(() => buildTurnRequest({ method: TurnMethod.channelBind, channel: 0x3fff })).toThrow(
      /out of range/,
    );
  });

  it('parses a 401 error response with realm and nonce, and ignores what is not a response', () => {
    // An Allocate error response (class 3, method 3) built field by field.
    const realm = Buffer.from('parley.bench');
    const nonce = Buffer.from('n0nce');
    const err = Buffer.concat([Buffer.from([0, 0, 4, 1]), Buffer.from('Unauthorized')]);
    const attr = (type: number, v: Buffer) => {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(type, 0);
      h.writeUInt16BE(v.length, 2);
      return Buffer.concat([h, v, Buffer.alloc((4 - (v.length % 4)) % 4)]);
    };
    const body = Buffer.concat([
      attr(TurnAttr.ERROR_CODE, err),
      attr(TurnAttr.REALM, realm),
      attr(TurnAttr.NONCE, nonce),
    ]);
    const head = Buffer.alloc(20);
    head.writeUInt16BE(0x0113, 0);
    head.writeUInt16BE(body.length, 2);
    head.writeUInt32BE(0x2112a442, 4);
    head.fill(7, 8);
    const r = parseTurnResponse(Buffer.concat([head, body]));
    expect(r).toMatchObject({
      success: false,
      errorCode: 401,
      errorReason: 'Unauthorized',
      realm: 'parley.bench',
      nonce: 'n0nce',
      method: TurnMethod.allocate,
    });
    expect(r?.transactionId.equals(Buffer.alloc(12, 7))).toBe(true);
    // A request is not a response, and a truncated message is nothing.
    expect(parseTurnResponse(buildTurnRequest({ method: TurnMethod.allocate }))).toBeUndefined();
    expect(parseTurnResponse(Buffer.concat([head, body]).subarray(0, 30))).toBeUndefined();
  });

  it('frames ChannelData as channel, length, payload', () => {
    const f = channelData(0x4001, Buffer.from('hello'));
    expect(f.toString('hex')).toBe(`40010005${Buffer.from('hello').toString('hex')}`);
  });
});
