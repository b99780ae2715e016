import { describe, expect, it } from 'vitest';
import { classifyByte, classifyPacket } from './demux.js';
import { loadFixture } from './fixtures/fixtures.js';

describe('RFC 7983 demux', () => {
  it('classifies every first-byte value by its range', () => {
    const counts = { stun: 0, dtls: 0, rtp: 0, unknown: 0 };
    for (let b = 0; b < 256; b++) counts[classifyByte(b)]++;
    expect(counts).toEqual({ stun: 4, dtls: 44, rtp: 64, unknown: 144 });
  });

  it('puts the range edges on the right side', () => {
    expect([3, 4, 19, 20, 63, 64, 127, 128, 191, 192].map(classifyByte)).toEqual([
      'stun',
      'unknown',
      'unknown',
      'dtls',
      'dtls',
      'unknown',
      'unknown',
      'rtp',
      'rtp',
      'unknown',
    ]);
  });

  it('classifies real packets and empty datagrams', () => {
    expect(classifyPacket(loadFixture('chromium-binding-request'))).toBe('stun');
    expect(classifyPacket(Buffer.from('16fefd', 'hex'))).toBe('dtls');
    expect(classifyPacket(Buffer.from('806f0001', 'hex'))).toBe('rtp');
    expect(classifyPacket(Buffer.from('81c90007', 'hex'))).toBe('rtp'); // RTCP RR
    expect(classifyPacket(Buffer.alloc(0))).toBe('unknown');
  });
});
