/**
 * Sends queued audio frames on a clock: at most one packet per frame period,
 * never a burst, whatever rate the agent produces audio at (models often
 * stream faster than real time).
 *
 * While frames are queued, packets go out on a grid anchored at the start of
 * the talkspurt (drift-free: each due time is computed from the anchor, not
 * from the previous timer). When the queue runs dry the pacer goes idle and
 * sends nothing; the next frame starts a new talkspurt whose RTP timestamp
 * advances by the elapsed time, with the marker bit set (RFC 3551 section
 * 4.1), so receivers see continuous media time across silence. A late timer
 * skips grid slots rather than catching up with a burst.
 *
 * Pure apart from the injected clock and scheduler.
 */
export interface PacerSend<T> {
  frame: T;
  /** RTP timestamp (uint32) on the media clock. */
  timestamp: number;
  /** First packet of a talkspurt. */
  marker: boolean;
  sentAt: number;
}

export interface PacerOptions<T> {
  now: () => number;
  /** Runs `fn` at `at` (ms on the same clock); returns a cancel function. */
  schedule: (at: number, fn: () => void) => () => void;
  send: (p: PacerSend<T>) => void;
  frameMs?: number;
  /** Media clock ticks per frame: 960 for 20 ms at 48 kHz. */
  frameTicks?: number;
  initialTimestamp?: number;
  /** Most frames queued (60 s at 20 ms); beyond it new frames are dropped and counted. */
  maxQueue?: number;
  /**
   * For live frames (echo: made in step with the user's audio), their index in
   * the inbound frame sequence; undefined for model speech. Live frames are
   * sent as they arrive, at most `hurryMs` ahead of the frame period, so an
   * inbound burst cannot leave a standing delay, and their timestamps follow
   * the inbound media clock, so a dropped frame shows as a gap.
   */
  liveIndex?: (frame: T) => number | undefined;
  hurryMs?: number;
  /**
   * Longest a live frame waits in the queue for its slot (default: no bound).
   * The hurry alone drains a backlog by hurryMs per packet, so one event-loop
   * stall of a few frames keeps frames waiting for hundreds of ms after the
   * core has caught up; with this bound a backlog goes out within it, as a
   * short burst, and pacing never adds more than this to a live frame.
   */
  maxLiveWaitMs?: number;
}

export class RtpPacer<T> {
  sent = 0;
  dropped = 0;
  /** Timer firings that came a whole slot late (event-loop stalls). */
  lateSlots = 0;
  /** Packets sent early to work off a live backlog. */
  hurried = 0;
  /**
   * Queued frames as a ring (head, count) that grows by doubling and never
   * shrinks: a push/splice array reallocated its backing store every few
   * hundred frames per session, and those long-lived arrays were promoted to
   * the old generation as garbage (major GCs that stalled the core at 150
   * echo sessions).
   */
  private ring: (T | undefined)[] = new Array<T | undefined>(INITIAL_RING).fill(undefined);
  /** When each queued frame was enqueued (same slots as ring). */
  private since = new Float64Array(INITIAL_RING);
  private head = 0;
  private count = 0;
  private cancel?: () => void;
  private anchorAt = 0;
  private anchorTs = 0;
  private lastK = -1;
  private lastSentAt?: number;
  private lastTs: number;
  private readonly frameMs: number;
  private readonly frameTicks: number;
  private readonly maxQueue: number;
  private readonly hurryMs: number;
  private readonly maxLiveWaitMs: number;
  private lastLiveIndex?: number;
  private closed = false;
  private paused = false;

  constructor(private readonly opts: PacerOptions<T>) {
    this.frameMs = opts.frameMs ?? 20;
    this.frameTicks = opts.frameTicks ?? 960;
    this.maxQueue = opts.maxQueue ?? 3_000;
    this.hurryMs = opts.hurryMs ?? 4;
    this.maxLiveWaitMs = opts.maxLiveWaitMs ?? Number.POSITIVE_INFINITY;
    this.lastTs = (opts.initialTimestamp ?? 0) >>> 0;
  }

  get queued(): number {
    return this.count;
  }

  /** When the oldest queued frame was enqueued (undefined when nothing is queued). */
  get oldestSince(): number | undefined {
    return this.count > 0 ? this.since[this.head] : undefined;
  }

  enqueue(frame: T): void {
    if (this.closed) return;
    if (this.count >= this.maxQueue) {
      this.dropped++;
      return;
    }
    if (this.count === this.ring.length) this.grow();
    const at = (this.head + this.count) & (this.ring.length - 1);
    this.ring[at] = frame;
    this.since[at] = this.opts.now();
    this.count++;
    if (!this.cancel && !this.paused) this.start();
  }

  /** Doubles the ring (a power of two, so slots wrap with a mask), oldest frame first. */
  private grow(): void {
    const n = this.ring.length;
    const ring = new Array<T | undefined>(n * 2).fill(undefined);
    const since = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const from = (this.head + i) & (n - 1);
      ring[i] = this.ring[from];
      since[i] = this.since[from] as number;
    }
    this.ring = ring;
    this.since = since;
    this.head = 0;
  }

  /** Takes the oldest frame off the ring (the caller checked count > 0). */
  private shift(): T {
    const frame = this.ring[this.head] as T;
    // Cleared so a sent frame is not kept alive by its old slot.
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.count--;
    return frame;
  }

  /**
   * Holds what is queued without dropping it (speech over the agent that may
   * be only a backchannel): nothing is sent until resume() or clear().
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /**
   * Sends the held frames from where they stopped, as a new talkspurt: the
   * RTP timestamp jumps by the time held and the marker is set (as after any
   * silence), so receivers play the rest without a glitch of stale timing.
   */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.queued > 0 && !this.closed) this.start();
  }

  /** Drops the oldest queued frame (for live audio a stale frame is worth less than a gap). */
  dropOldest(): boolean {
    if (this.count === 0) return false;
    this.shift();
    this.dropped++;
    return true;
  }

  /** Drops everything queued (barge-in); returns how many frames were dropped. */
  clear(): number {
    const n = this.count;
    this.paused = false;
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.cancel?.();
    this.cancel = undefined;
    return n;
  }

  close(): void {
    this.clear();
    this.closed = true;
  }

  /** Idle → sending: send now, or at the next slot if the last packet was too recent. */
  private start(): void {
    const now = this.opts.now();
    if (this.lastSentAt !== undefined && this.headIsLive() && this.lastLiveIndex !== undefined) {
      const earliest = this.liveDue(this.lastSentAt);
      if (now >= earliest) this.sendLive(now);
      else this.wait(earliest);
      return;
    }
    if (this.lastSentAt !== undefined && now < this.lastSentAt + this.frameMs) {
      // Still inside the previous packet's period: continue that grid.
      this.wait(this.anchorAt + (this.lastK + 1) * this.frameMs);
      return;
    }
    const gap =
      this.lastSentAt === undefined ? 0 : Math.max(1, Math.round((now - this.lastSentAt) / this.frameMs));
    this.anchorAt = now;
    this.anchorTs = (this.lastTs + gap * this.frameTicks) >>> 0;
    this.lastK = -1;
    this.emit(0, now, gap !== 1);
  }

  private onTimer(): void {
    this.cancel = undefined;
    if (this.queued === 0 || this.paused) return;
    const now = this.opts.now();
    if (this.headIsLive()) {
      this.sendLive(now);
      return;
    }
    const slot = Math.floor((now - this.anchorAt) / this.frameMs + 1e-6);
    const k = Math.max(this.lastK + 1, slot);
    if (k > this.lastK + 1) this.lateSlots += k - this.lastK - 1;
    this.emit(k, now, false);
  }

  /**
   * Live audio follows its arrival instead of a fixed grid: the next packet
   * continues the media clock (+1 frame) and goes as soon as it is here, but
   * never closer than frameMs - hurryMs to the previous one. A backlog drains
   * by hurryMs per packet, and the send phase converges on the arrival phase.
   */
  private sendLive(now: number): void {
    if (this.lastSentAt !== undefined && now < this.lastSentAt + this.frameMs) this.hurried++;
    const index = this.opts.liveIndex?.(this.ring[this.head] as T) as number;
    const step = this.lastLiveIndex === undefined ? 1 : Math.max(1, index - this.lastLiveIndex);
    const k = this.lastK + step;
    this.anchorAt = now - k * this.frameMs;
    this.emit(k, now, step > 1);
  }

  private headIsLive(): boolean {
    return this.count > 0 && this.opts.liveIndex?.(this.ring[this.head] as T) !== undefined;
  }

  private emit(k: number, now: number, marker: boolean): void {
    const frame = this.shift();
    this.lastLiveIndex = this.opts.liveIndex?.(frame);
    const timestamp = (this.anchorTs + k * this.frameTicks) >>> 0;
    this.lastK = k;
    this.lastTs = timestamp;
    this.lastSentAt = now;
    this.sent++;
    this.opts.send({ frame, timestamp, marker, sentAt: now });
    if (this.queued === 0 || this.closed || this.paused) return;
    if (!this.headIsLive()) {
      this.wait(this.anchorAt + (k + 1) * this.frameMs);
      return;
    }
    const at = this.liveDue(now);
    // A backlog past its wait bound goes now, in this turn (depth bounded by the queue).
    if (at <= now) this.sendLive(now);
    else this.wait(at);
  }

  /** When the live frame at the head may go, the previous packet having gone at `lastSentAt`. */
  private liveDue(lastSentAt: number): number {
    return Math.min(
      lastSentAt + this.frameMs - this.hurryMs,
      (this.since[this.head] as number) + this.maxLiveWaitMs,
    );
  }

  /** The timer callback, made once rather than per packet. */
  private readonly fire = () => this.onTimer();

  private wait(at: number): void {
    this.cancel = this.opts.schedule(at, this.fire);
  }
}

/** Ring slots a new pacer starts with (a power of two): live audio keeps one or two queued. */
const INITIAL_RING = 8;

/** Frame buffers kept for reuse: a pacer holds a few live frames; model speech allocates past this. */
const MAX_SPARE_FRAMES = 8;
/**
 * New frames are views into a shared slab of this many: a typed array of
 * its own per frame costs a malloc'd, zeroed backing store and its sweeping
 * (~2 % of the transceiver at 150 echo sessions), a view only a small object.
 * A frame someone keeps pins its slab, at most 16 frames' worth.
 */
const SLAB_FRAMES = 16;

/**
 * Cuts a PCM stream of any chunk sizes into fixed frames. Each frame keeps
 * the tag of the chunk that completed it (used for latency accounting).
 * Every frame is a buffer of its own; a consumer that is done with one may
 * hand it back with `recycle` so the next frame needs no allocation.
 */
export class FrameAssembler<Tag> {
  private buf: Int16Array;
  private fill = 0;
  private lastTag?: Tag;
  private readonly spare: Int16Array[] = [];
  private slab?: Int16Array;
  private slabUsed = 0;

  constructor(readonly frameSamples: number) {
    this.buf = new Int16Array(frameSamples);
  }

  /** Takes back a frame this assembler made, once nothing reads it any more. */
  recycle(frame: Int16Array): void {
    if (
      frame.length === this.frameSamples &&
      frame !== this.buf &&
      this.spare.length < MAX_SPARE_FRAMES &&
      !this.spare.includes(frame)
    )
      this.spare.push(frame);
  }

  private nextBuffer(): Int16Array {
    const spare = this.spare.pop();
    if (spare) return spare;
    const n = this.frameSamples;
    if (!this.slab || this.slabUsed + n > this.slab.length) {
      this.slab = new Int16Array(n * SLAB_FRAMES);
      this.slabUsed = 0;
    }
    this.slabUsed += n;
    return this.slab.subarray(this.slabUsed - n, this.slabUsed);
  }

  get partial(): number {
    return this.fill;
  }

  push(pcm: Int16Array, tag: Tag): { pcm: Int16Array; tag: Tag }[] {
    const out: { pcm: Int16Array; tag: Tag }[] = [];
    this.pushEach(pcm, tag, (frame, t) => out.push({ pcm: frame, tag: t }));
    return out;
  }

  /**
   * push() for the media path: hands each completed frame to `fn` as it is
   * made, with no array, record or view per frame (those were ~a third of
   * the echo path's garbage). Reads pcm[0, length). `fn` should be made
   * once by the caller, not per call.
   */
  pushEach(
    pcm: Int16Array,
    tag: Tag,
    fn: (frame: Int16Array, tag: Tag) => void,
    length: number = pcm.length,
  ): void {
    let i = 0;
    this.lastTag = tag;
    while (i < length) {
      const n = Math.min(this.frameSamples - this.fill, length - i);
      if (i === 0 && n === pcm.length) this.buf.set(pcm, this.fill);
      else {
        const buf = this.buf;
        for (let k = 0, at = this.fill; k < n; k++, at++) buf[at] = pcm[i + k] as number;
      }
      this.fill += n;
      i += n;
      if (this.fill === this.frameSamples) {
        const frame = this.buf;
        this.buf = this.nextBuffer();
        this.fill = 0;
        fn(frame, tag);
      }
    }
  }

  /** The incomplete frame padded with silence (end of an utterance), if any. */
  flush(): { pcm: Int16Array; tag: Tag } | undefined {
    if (this.fill === 0 || this.lastTag === undefined) return undefined;
    // A recycled buffer holds an old frame past `fill`: the padding must be silence.
    this.buf.fill(0, this.fill);
    const frame = { pcm: this.buf, tag: this.lastTag };
    this.buf = this.nextBuffer();
    this.fill = 0;
    return frame;
  }

  clear(): void {
    this.buf.fill(0);
    this.fill = 0;
  }
}
