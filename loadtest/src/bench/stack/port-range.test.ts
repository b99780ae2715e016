import { describe, expect, it } from 'vitest';
import { ephemeralRange, freeUdpRangeBelowEphemeral } from './port-range.js';

describe('transceiver port ranges for the bench', () => {
  it('reads the kernel ephemeral range, with Linux defaults as the fallback', () => {
    expect(ephemeralRange('32768\t60999\n')).toEqual({ min: 32_768, max: 60_999 });
    expect(ephemeralRange('garbage')).toEqual({ min: 32_768, max: 60_999 });
  });

  it('finds free consecutive ports that clients cannot be handed', async () => {
    const r = await freeUdpRangeBelowEphemeral(20);
    expect(r.max - r.min).toBe(19);
    expect(r.max).toBeLessThan(ephemeralRange().min);
    expect(r.min).toBeGreaterThanOrEqual(10_000);
  });
});
