import fc from 'fast-check';

/**
 * Shared settings and byte mutators for the *.fuzz.test.ts files.
 *
 * Every fuzz target runs fast-check with a fixed seed, so a CI failure
 * reproduces exactly: fast-check prints the seed and the counterexample's
 * path, and `PARLEY_FUZZ_SEED=<seed>` replays it. CI runs FUZZ_CI_RUNS
 * inputs per target; `PARLEY_FUZZ_ITERATIONS=1000000` (bench mode) runs
 * more, with the test timeouts scaled to match.
 */
export const FUZZ_CI_RUNS = 100_000;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Inputs per target: PARLEY_FUZZ_ITERATIONS when set, else `ci`. */
export function fuzzRuns(ci = FUZZ_CI_RUNS): number {
  return envInt('PARLEY_FUZZ_ITERATIONS') ?? ci;
}

/** One seed for the whole run: PARLEY_FUZZ_SEED when set. */
export const FUZZ_SEED = envInt('PARLEY_FUZZ_SEED') ?? 0x5eed_2026;

/** fast-check parameters for a target: seeded, bounded, and silent unless it fails. */
export function fuzzParams(ci = FUZZ_CI_RUNS): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: fuzzRuns(ci), endOnFailure: false };
}

/**
 * A vitest timeout that grows with the iteration count: 120 s per 100k
 * inputs. The work is bounded by the count, so this is only a backstop; it
 * is wide because a target takes 2-5 s of CPU but two workers on a shared
 * 2-core machine stretched one to 48 s of wall time.
 */
export function fuzzTimeout(ci = FUZZ_CI_RUNS): number {
  return Math.max(120_000, Math.ceil((fuzzRuns(ci) / 100_000) * 120_000));
}

/**
 * A coverage floor written for the CI count (at least `n` inputs reached an
 * outcome), scaled down when PARLEY_FUZZ_ITERATIONS asks for fewer inputs.
 */
export function fuzzFloor(n: number, ci = FUZZ_CI_RUNS): number {
  return Math.floor(n * Math.min(1, fuzzRuns(ci) / ci));
}

/** Values that break length fields and offsets most often. */
const INTERESTING_U16 = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];

/**
 * Structure-agnostic mutations of known-good packets, AFL style: bit flips,
 * byte overwrites, interesting 16-bit values (lengths, types), truncation,
 * insertion, deletion, duplication and splicing of two samples. Each input
 * is a fresh copy, so a target that mutates its input cannot poison the samples.
 */
export function mutatedBytes(samples: readonly Uint8Array[]): fc.Arbitrary<Buffer> {
  if (samples.length === 0) throw new Error('mutatedBytes needs at least one sample');
  const sample = fc.constantFrom(...samples).map((s) => Buffer.from(s));
  const flips = fc
    .tuple(
      sample,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
    )
    .map(([b, edits]) => {
      if (b.length === 0) return b;
      for (const [at, x] of edits) b[at % b.length] = (b[at % b.length] as number) ^ x;
      return b;
    });
  const u16 = fc
    .tuple(sample, fc.nat(), fc.constantFrom(...INTERESTING_U16), fc.integer({ min: -8, max: 8 }))
    .map(([b, at, v, delta]) => {
      if (b.length < 2) return b;
      const off = (at % (b.length - 1)) & ~1;
      b.writeUInt16BE((v + delta) & 0xffff, off);
      return b;
    });
  const truncate = fc.tuple(sample, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1)));
  const insert = fc
    .tuple(sample, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 24 }))
    .map(([b, at, extra]) => {
      const i = at % (b.length + 1);
      return Buffer.concat([b.subarray(0, i), extra, b.subarray(i)]);
    });
  const remove = fc.tuple(sample, fc.nat(), fc.integer({ min: 1, max: 24 })).map(([b, at, n]) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), b.subarray(i + n)]);
  });
  const splice = fc.tuple(sample, sample, fc.nat(), fc.nat()).map(([a, b, i, j]) => {
    return Buffer.concat([a.subarray(0, i % (a.length + 1)), b.subarray(j % (b.length + 1))]);
  });
  return fc.oneof(
    { arbitrary: flips, weight: 4 },
    { arbitrary: u16, weight: 3 },
    { arbitrary: truncate, weight: 1 },
    { arbitrary: insert, weight: 1 },
    { arbitrary: remove, weight: 1 },
    { arbitrary: splice, weight: 1 },
  );
}

/** Plain random bytes, up to maxLength, with short inputs most common. */
export function randomBytesArb(maxLength = 256): fc.Arbitrary<Buffer> {
  return fc
    .uint8Array({ maxLength, size: 'medium' })
    .map((u) => Buffer.from(u.buffer, u.byteOffset, u.length));
}

/** Mutated samples most of the time, random bytes the rest. */
export function fuzzBytes(samples: readonly Uint8Array[], maxRandomLength = 256): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: mutatedBytes(samples), weight: 4 },
    { arbitrary: randomBytesArb(maxRandomLength), weight: 1 },
  );
}

/**
 * A property that did not hold. Fuzz bodies use invariant() rather than
 * vitest's expect() in their loops: expect costs tens of microseconds a
 * call, which at 100k inputs is most of the CI budget.
 */
export class FuzzInvariantError extends Error {
  override name = 'FuzzInvariantError';
}

export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new FuzzInvariantError(typeof message === 'string' ? message : message());
}

/** Adds one to `key` in a tally of outcomes. */
export function bump(tally: Map<string, number>, key: string): void {
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

/** A fuzz target failed: the message names the seed, the path, the counterexample and the property's error. */
export class FuzzFailedError extends Error {
  override name = 'FuzzFailedError';
}

/**
 * Runs `body` for every generated input, so the caller can count outcomes
 * across the whole run. Stack traces are off meanwhile: the decoders under
 * fuzz throw on most inputs (protobufjs, JSON.parse, Buffer range checks),
 * V8 captures a stack for every Error, and no property reads one. A failure
 * is rethrown with stacks back on, keeping fast-check's report as its cause.
 */
export function fuzz<T>(arb: fc.Arbitrary<T>, body: (input: T) => void, ci = FUZZ_CI_RUNS): void {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    fc.assert(
      fc.property(arb, (input) => {
        body(input);
      }),
      fuzzParams(ci),
    );
  } catch (err) {
    Error.stackTraceLimit = stackTraceLimit;
    // fast-check 4 keeps the property's own error as the cause only; its message is the one to read first.
    const inner =
      err instanceof Error && err.cause instanceof Error ? `\nProperty error: ${err.cause.message}` : '';
    throw new FuzzFailedError(`${err instanceof Error ? err.message : String(err)}${inner}`, { cause: err });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
