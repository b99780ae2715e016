import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha1 } from './hmac-sha1.js';

function reference(key: Buffer, data: Buffer, roc: number): Buffer {
  const h = createHmac('sha1', key).update(data);
  if (roc >= 0) {
    const r = Buffer.alloc(4);
    r.writeUInt32BE(roc);
    h.update(r);
  }
  return h.digest();
}

describe.each([true, false])('HmacSha1 (one-shot hash: %s)', (oneShot) => {
  it('signs like createHmac over data || ROC, with and without the ROC', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key, oneShot);
    for (const len of [0, 1, 12, 55, 56, 64, 119, 1500, 1600, 9000, 100]) {
      // Trailing bytes past length must not count, as when verifying in place.
      const data = randomBytes(len + 10);
      for (const roc of [-1, 0, 1, 0xffffffff]) {
        const out = Buffer.alloc(22, 0xaa);
        mac.sign(data, len, roc, 20, out, 1);
        expect(out.subarray(1, 21).toString('hex'), `len ${len} roc ${roc}`).toBe(
          reference(key, data.subarray(0, len), roc).toString('hex'),
        );
        expect(out[0]).toBe(0xaa);
        expect(out[21]).toBe(0xaa);
      }
    }
  });

  it('verifies a truncated tag and rejects any flipped bit', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key, oneShot);
    const data = randomBytes(100);
    const tag = Buffer.concat([Buffer.alloc(3), reference(key, data, 7).subarray(0, 10)]);
    expect(mac.verify(data, 100, 7, 10, tag, 3)).toBe(true);
    expect(mac.verify(data, 100, 8, 10, tag, 3)).toBe(false);
    expect(mac.verify(data, 99, 7, 10, tag, 3)).toBe(false);
    for (let bit = 0; bit < 80; bit++) {
      const bad = Buffer.from(tag);
      bad[3 + (bit >> 3)] = (bad[3 + (bit >> 3)] as number) ^ (1 << (bit & 7));
      expect(mac.verify(data, 100, 7, 10, bad, 3)).toBe(false);
    }
  });

  it('matches RFC 2202 test case 1', () => {
    const out = Buffer.alloc(20);
    new HmacSha1(Buffer.alloc(20, 0x0b), oneShot).sign(Buffer.from('Hi There'), 8, -1, 20, out, 0);
    expect(out.toString('hex')).toBe('b617318655057264e28bc0b6fb378c8ef146be00');
  });
});
