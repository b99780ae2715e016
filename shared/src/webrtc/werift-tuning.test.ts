import { describe, expect, it } from 'vitest';
import { memoizeFingerprints } from './werift-tuning.js';

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
});
