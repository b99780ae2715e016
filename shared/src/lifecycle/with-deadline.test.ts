import { describe, expect, it } from 'vitest';
import { bestEffort, StepTimeoutError, withDeadline } from './with-deadline.js';

describe('withDeadline', () => {
  it('returns the step result in time', async () => {
    expect(await withDeadline('quick', 1_000, async () => 42)).toBe(42);
  });

  it('rejects with a named error and calls onTimeout when the step hangs', async () => {
    let cut = false;
    const err = await withDeadline('hang', 20, new Promise(() => undefined), () => {
      cut = true;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepTimeoutError);
    expect(err).toMatchObject({ step: 'hang', ms: 20 });
    expect(cut).toBe(true);
  });

  it('swallows a late rejection of a step it gave up on (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      let fail!: (e: Error) => void;
      const late = new Promise<void>((_, reject) => {
        fail = reject;
      });
      await expect(withDeadline('late', 10, late)).rejects.toBeInstanceOf(StepTimeoutError);
      fail(new Error('too late'));
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('bestEffort reports instead of throwing', async () => {
    const errors: unknown[] = [];
    await bestEffort('boom', 100, Promise.reject(new Error('boom')), (e) => errors.push(e));
    await bestEffort('hang', 10, new Promise(() => undefined), (e) => errors.push(e));
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'hang did not finish within 10 ms']);
  });
});
