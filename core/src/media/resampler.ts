/**
 * Streaming sample-rate converter for mono PCM16: band-limited interpolation
 * with a Kaiser-windowed sinc, as a polyphase table (one phase per output
 * position between two input samples). Rational ratios only (from/to reduced
 * by their gcd), so 48 kHz <-> 16/24 kHz and 44.1 <-> 48 kHz are exact.
 *
 * State carries across calls: feeding 20 ms frames gives the same output as
 * one long call. The filter delays the signal by `zeroCrossings` samples of
 * the lower rate (1 ms at 16 kHz with the default 16) in the sense that the
 * output for an instant appears once the samples after it have arrived; the
 * filter is symmetric, so the content itself is not shifted.
 */
export class Resampler {
  readonly from: number;
  readonly to: number;
  private readonly up: number; // L
  private readonly down: number; // M
  private readonly half: number; // taps each side of the output instant, in input samples
  private readonly table: Float32Array; // [phase][tap]
  private readonly taps: number;
  private buf: Float32Array;
  private bufLen: number;
  /** Input index (within buf) of the sample at or before the next output instant, and its phase. */
  private base: number;
  private phase = 0;
  /** Zeros still to put in front of the output (see `prime`). */
  private primeLeft = 0;

  /**
   * With `prime`, the output starts with `latency` zeros so every input chunk
   * yields its full share of output at once (20 ms in, 20 ms out): the content
   * is delayed by `latency` samples instead of the last frame waiting for the
   * next chunk. The pipeline uses this; without it the first chunk is short.
   */
  constructor(from: number, to: number, opts: { zeroCrossings?: number; prime?: boolean } = {}) {
    const zeroCrossings = opts.zeroCrossings ?? 16;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from <= 0 || to <= 0)
      throw new RangeError(`bad sample rates ${from} -> ${to}`);
    const g = gcd(from, to);
    this.from = from;
    this.to = to;
    this.up = to / g;
    this.down = from / g;
    if (this.up > 1024) throw new RangeError(`ratio ${from}:${to} needs too many filter phases`);
    // Cut off below the lower Nyquist, scaled by how much we decimate.
    const ratio = Math.min(1, this.up / this.down);
    this.half = Math.ceil(zeroCrossings / ratio);
    this.taps = 2 * this.half;
    this.table = buildTable(this.up, this.half, ratio * 0.95, 8);
    this.buf = new Float32Array(4096);
    // `half` zeros of history before the first sample; the first output instant is that sample.
    this.bufLen = this.half;
    this.base = this.half;
    if (opts.prime) this.primeLeft = this.latency;
  }

  /** Output samples by which a primed resampler delays its content. */
  get latency(): number {
    return this.passthrough ? 0 : Math.round((this.half * this.up) / this.down);
  }

  get passthrough(): boolean {
    return this.up === this.down;
  }

  /** Converts the next chunk; returns however many output samples are complete. */
  process(input: Int16Array): Int16Array {
    if (this.passthrough) return input.slice();
    this.append(input);
    const { up, down, half, taps, table } = this;
    const outMax = Math.ceil(((this.bufLen - this.base) * up) / down) + 1;
    const out = new Int16Array(Math.max(0, outMax));
    let n = 0;
    let base = this.base;
    let phase = this.phase;
    const buf = this.buf;
    // Output instant lies `phase/up` input samples after buf[base]; it needs half samples after it.
    while (base + half < this.bufLen) {
      const row = phase * taps;
      const start = base - half + 1;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += (buf[start + k] as number) * (table[row + k] as number);
      out[n++] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
      phase += down;
      while (phase >= up) {
        phase -= up;
        base++;
      }
    }
    this.phase = phase;
    // Keep only the history the next output needs.
    const keepFrom = Math.max(0, base - half + 1);
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, this.bufLen);
      this.bufLen -= keepFrom;
      base -= keepFrom;
    }
    this.base = base;
    if (this.primeLeft > 0) {
      const primed = new Int16Array(this.primeLeft + n);
      primed.set(out.subarray(0, n), this.primeLeft);
      this.primeLeft = 0;
      return primed;
    }
    return out.subarray(0, n);
  }

  private append(input: Int16Array): void {
    if (this.bufLen + input.length > this.buf.length) {
      const next = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + input.length));
      next.set(this.buf.subarray(0, this.bufLen));
      this.buf = next;
    }
    for (let i = 0; i < input.length; i++) this.buf[this.bufLen + i] = input[i] as number;
    this.bufLen += input.length;
  }
}

/**
 * Polyphase table: for phase p (output instant p/L after an input sample) and
 * tap k (input sample at offset k - half + 1), the windowed-sinc weight.
 */
function buildTable(phases: number, half: number, cutoff: number, beta: number): Float32Array {
  const taps = 2 * half;
  const table = new Float32Array(phases * taps);
  const i0b = besselI0(beta);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const t = k - half + 1 - frac; // distance from the output instant, in input samples
      const x = t / half;
      const w = Math.abs(x) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - x * x)) / i0b;
      const v = cutoff * sinc(cutoff * t) * w;
      table[p * taps + k] = v;
      sum += v;
    }
    // Unity gain at DC for every phase, so no phase ripple shows as a tone.
    for (let k = 0; k < taps; k++) table[p * taps + k] = (table[p * taps + k] as number) / sum;
  }
  return table;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 30; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
