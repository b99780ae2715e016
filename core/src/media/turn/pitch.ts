/**
 * A cheap pitch (F0) tracker: normalised autocorrelation on 40 ms windows of
 * 16 kHz audio decimated to 8 kHz. Good enough for intonation (is the voice
 * falling or rising at the end of a phrase), not for music; it runs only on
 * the last second before a pause, so its cost per session is tiny.
 *
 * Pure: samples in, numbers out.
 */
export interface PitchOptions {
  /** Sample rate of the input; decimated to about 8 kHz before the search. */
  rate?: number;
  minHz?: number;
  maxHz?: number;
}

export interface PitchFrame {
  /** Hz; 0 when unvoiced. */
  f0: number;
  /** Peak normalised autocorrelation, 0..1: how periodic the window is. */
  voicing: number;
  /** Window level, dBFS. */
  db: number;
}

/** Below this peak correlation a window is unvoiced (noise, silence, fricatives). */
export const VOICED_AT = 0.55;

/**
 * F0 of one window. Octave-down errors (the peak at twice the period is as
 * high as at the period) are avoided by taking the shortest lag whose
 * correlation is within 12 % of the best, then refining it with a parabola.
 */
export function pitchOf(x: ArrayLike<number>, opts: PitchOptions = {}): PitchFrame {
  const inRate = opts.rate ?? 16_000;
  // Decimate to about 8 kHz with a boxcar average (a crude low-pass; F0 and its low harmonics survive).
  const dec = Math.max(1, Math.round(inRate / 8_000));
  const rate = inRate / dec;
  const n = Math.floor(x.length / dec);
  const y = new Float32Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < dec; k++) s += x[i * dec + k] as number;
    y[i] = s / dec;
    mean += y[i] as number;
  }
  mean /= Math.max(1, n);
  let energy = 0;
  for (let i = 0; i < n; i++) {
    y[i] = (y[i] as number) - mean;
    energy += (y[i] as number) ** 2;
  }
  const rms = Math.sqrt(energy / Math.max(1, n));
  const db = rms > 0 ? 20 * Math.log10(rms / 32768) : -120;
  const minLag = Math.max(2, Math.floor(rate / (opts.maxHz ?? 400)));
  const maxLag = Math.min(n - 2, Math.ceil(rate / (opts.minHz ?? 70)));
  if (energy <= 0 || maxLag <= minLag) return { f0: 0, voicing: 0, db };
  // Prefix sums of y^2 give each lag's two energies in O(1): one multiply-add per sample per lag.
  const sq = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) sq[i + 1] = (sq[i] as number) + (y[i] as number) ** 2;
  const r = new Float32Array(maxLag + 2);
  let best = 0;
  for (let lag = minLag - 1; lag <= maxLag + 1; lag++) {
    let xy = 0;
    for (let i = 0; i + lag < n; i++) xy += (y[i] as number) * (y[i + lag] as number);
    const xx = sq[n - lag] as number;
    const yy = (sq[n] as number) - (sq[lag] as number);
    const v = xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
    r[lag] = v;
    if (lag >= minLag && lag <= maxLag) best = Math.max(best, v);
  }
  if (best < VOICED_AT) return { f0: 0, voicing: Math.max(0, best), db };
  let pick = minLag;
  for (let lag = minLag; lag <= maxLag; lag++) {
    const v = r[lag] as number;
    // A local peak close to the best one: the true period, not a multiple of it.
    if (v >= best * 0.88 && v >= (r[lag - 1] as number) && v >= (r[lag + 1] as number)) {
      pick = lag;
      break;
    }
  }
  const a = r[pick - 1] as number;
  const b = r[pick] as number;
  const c = r[pick + 1] as number;
  const den = a - 2 * b + c;
  const shift = den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
  return { f0: rate / (pick + shift), voicing: b, db };
}

/** Semitones relative to 100 Hz (a log scale, so slopes compare across voices). */
export const semitones = (hz: number): number => 12 * Math.log2(hz / 100);

/** Least-squares slope of ys over xs. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    sxx += ((xs[i] as number) - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}
