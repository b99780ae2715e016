/** The quietest level the meter shows, dBFS; below it the bar is empty. */
export const FLOOR_DB = -60;

/**
 * Microphone level from one block of samples (-1..1): RMS in dBFS, mapped
 * linearly from FLOOR_DB..0 dB onto 0..1, which is how loudness reads.
 */
export function levelOf(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / samples.length);
  if (rms === 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB));
}

/** A meter that rises at once and falls slowly, like a VU meter, so short syllables stay visible. */
export function smoothLevel(previous: number, next: number, fall = 0.15): number {
  return next >= previous ? next : previous + (next - previous) * fall;
}

/**
 * Reads the microphone's level through Web Audio (an AnalyserNode on the
 * same stream the call sends), about 20 times a second.
 */
export class MicLevelMeter {
  private readonly ctx: AudioContext;
  private readonly timer: ReturnType<typeof setInterval>;
  private level = 0;

  constructor(stream: MediaStream, onLevel: (level: number) => void, intervalMs = 50) {
    this.ctx = new AudioContext();
    const source = this.ctx.createMediaStreamSource(stream);
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const block = new Float32Array(analyser.fftSize);
    this.timer = setInterval(() => {
      analyser.getFloatTimeDomainData(block);
      this.level = smoothLevel(this.level, levelOf(block));
      onLevel(this.level);
    }, intervalMs);
  }

  close(): void {
    clearInterval(this.timer);
    void this.ctx.close().catch(() => undefined);
  }
}
