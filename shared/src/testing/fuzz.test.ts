import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FuzzFailedError, fuzz, invariant } from './fuzz.js';

describe('fuzz()', () => {
  it('runs without stack traces and restores them after', () => {
    const before = Error.stackTraceLimit;
    let inside: number | undefined;
    fuzz(
      fc.nat(),
      () => {
        inside = Error.stackTraceLimit;
      },
      10,
    );
    expect(inside).toBe(0);
    expect(Error.stackTraceLimit).toBe(before);
  });

  it('rethrows a failure as FuzzFailedError with a stack, naming the counterexample, with the cause kept', () => {
    const before = Error.stackTraceLimit;
    let caught: unknown;
    try {
      fuzz(fc.nat(), (n) => invariant(n < 5, `${n} is too big`), 1_000);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FuzzFailedError);
    const err = caught as FuzzFailedError;
    expect(err.message).toMatch(/Counterexample: \[5\]/);
    expect(err.message).toContain('5 is too big');
    expect(err.stack).toContain('fuzz.test.ts');
    expect(err.cause).toBeInstanceOf(Error);
    expect(Error.stackTraceLimit).toBe(before);
  });
});
