import { describe, expect, it } from 'vitest';
import {
  LONG_LIVED_PEERS_BUFFER_POOL_BYTES,
  memoizeFingerprints,
  sizeBufferPoolForLongLivedPeers,
} from './werift-tuning.js';

describe('werift tuning', () => {
  it("memoizes a certificate's fingerprints: same values, computed once, a fresh array per call", () => {
    let calls = 0;
    const cert = {
      getFingerprints: () => {
        calls++;
        return [{ algorithm: 'sha-256', value: 'AB:CD' }];
      },
    };
    memoizeFingerprints(cert);
    memoizeFingerprints(cert);
    const a = cert.getFingerprints();
    const b = cert.getFingerprints();
    expect(calls).toBe(1);
    expect(a).toEqual([{ algorithm: 'sha-256', value: 'AB:CD' }]);
    expect(a).not.toBe(b);
  });

  it("sized for long-lived peers, a small Buffer pins a 2 KiB chunk, not Node 24's 64 KiB", () => {
    const chunk = LONG_LIVED_PEERS_BUFFER_POOL_BYTES;
    expect(chunk).toBe(2 * 1024);
    const previous = Buffer.poolSize;
    Buffer.poolSize = 64 * 1024;
    try {
      // Node 24's pool: a 32-byte secret kept alive keeps its whole 64 KiB chunk alive.
      expect(Buffer.from('a 32-byte master secret, say....').buffer.byteLength).toBe(64 * 1024);
      expect(sizeBufferPoolForLongLivedPeers()).toBe(64 * 1024);
      // The chunk in use is sliced on first (pooled: under half the new size); the next chunks are 2 KiB.
      for (let i = 0; i < 20 && Buffer.allocUnsafe(chunk / 2 - 24).buffer.byteLength !== chunk; i++);
      const kept = Buffer.from([1, 2, 3, 4]);
      const fromString = Buffer.from('master secret');
      expect(kept.buffer.byteLength).toBe(chunk);
      expect(fromString.buffer.byteLength).toBe(chunk);
    } finally {
      Buffer.poolSize = previous;
    }
  });
});
