/**
 * The reference model's behaviour, without I/O: it listens to the user's
 * turn and, when the turn ends, answers with a generated chime streamed
 * faster than real time in chunks (as speech synthesis does), plus
 * transcripts. An interrupt stops the reply. Both reference servers (gRPC
 * and Realtime-style WebSocket) wrap this.
 */
export interface ResponderSink {
  audio(pcm: Int16Array, sampleRate: number): void;
  responseStarted(id: string): void;
  responseDone(id: string, cancelled: boolean): void;
  transcript(role: 'user' | 'agent', text: string, final: boolean): void;
}

export interface ResponderOptions {
  /** Rate of the reply audio. */
  sampleRate?: number;
  /** Length of each reply. */
  replyMs?: number;
  /** Reply audio per message. */
  chunkMs?: number;
  /** How much faster than real time replies are produced. */
  speed?: number;
  setTimer?: (ms: number, fn: () => void) => () => void;
}

export class TurnResponder {
  private readonly rate: number;
  private readonly replyMs: number;
  private readonly chunkMs: number;
  private readonly speed: number;
  private readonly setTimer: (ms: number, fn: () => void) => () => void;
  private heardSamples = 0;
  private heardRate = 16_000;
  private replies = 0;
  private current?: { id: string; sent: number; total: number; cancel?: () => void };

  constructor(
    private readonly sink: ResponderSink,
    opts: ResponderOptions = {},
  ) {
    this.rate = opts.sampleRate ?? 24_000;
    this.replyMs = opts.replyMs ?? 1_200;
    this.chunkMs = opts.chunkMs ?? 100;
    this.speed = opts.speed ?? 2;
    this.setTimer =
      opts.setTimer ??
      ((ms, fn) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      });
  }

  get responding(): boolean {
    return this.current !== undefined;
  }

  userAudio(samples: number, sampleRate: number): void {
    this.heardSamples += samples;
    this.heardRate = sampleRate;
  }

  /** The user's turn is over: answer it. */
  turnEnded(): void {
    if (this.current) return;
    const heard = this.heardSamples / this.heardRate;
    this.heardSamples = 0;
    const id = `resp_${++this.replies}`;
    this.sink.transcript('user', `(${heard.toFixed(1)} s of speech)`, true);
    this.sink.responseStarted(id);
    this.current = { id, sent: 0, total: Math.round((this.rate * this.replyMs) / 1000) };
    this.sendChunk();
  }

  /** Barge-in: stop the reply now. */
  interrupt(): void {
    const c = this.current;
    if (!c) return;
    c.cancel?.();
    this.current = undefined;
    this.sink.responseDone(c.id, true);
  }

  close(): void {
    this.current?.cancel?.();
    this.current = undefined;
  }

  private sendChunk(): void {
    const c = this.current;
    if (!c) return;
    const n = Math.min(Math.round((this.rate * this.chunkMs) / 1000), c.total - c.sent);
    this.sink.audio(chime(c.sent, n, this.rate, c.total), this.rate);
    c.sent += n;
    if (c.sent >= c.total) {
      this.current = undefined;
      this.sink.transcript(
        'agent',
        `reply ${this.replies}: a ${(this.replyMs / 1000).toFixed(1)} s chime`,
        true,
      );
      this.sink.responseDone(c.id, false);
      return;
    }
    c.cancel = this.setTimer(this.chunkMs / this.speed, () => this.sendChunk());
  }
}

/** Samples [from, from+n) of a two-note chime (A4 then E5) with soft edges. */
export function chime(from: number, n: number, rate: number, total: number): Int16Array {
  const out = new Int16Array(n);
  const edge = rate / 100; // 10 ms fades
  for (let i = 0; i < n; i++) {
    const s = from + i;
    const f = s < total / 2 ? 440 : 659.25;
    const env = Math.min(1, s / edge, (total - s) / edge);
    out[i] = Math.round(9_000 * env * Math.sin((2 * Math.PI * f * s) / rate));
  }
  return out;
}
