import type { AgentState } from './client-events.js';
import { mediaTotals } from './media-metrics.js';
import { OpusEncoder } from './opus-codec.js';
import { Resampler } from './resampler.js';
import { FrameAssembler, RtpPacer } from './rtp-pacer.js';

/**
 * libopus complexity (0-10) for what the transceiver encodes: every agent's
 * speech, 50 frames a second per session, is its largest per-session cost.
 * Chosen by measurement (libopus 1.3.1 native addon, 20 ms mono at 16 kHz,
 * the echo agent's rate, 32 kbit/s voip, in-band FEC, one pinned core): 1
 * costs ~55 us per speech frame and ~35 us per silent one, against ~160/~83
 * us at 5 and ~340/~170 us at 10. Every setting gives
 * the same mode (SILK wideband) and bitrate; 2 and up add the delayed-decision
 * quantiser (twice the cost), which neither waveform SNR nor log-spectral
 * distance on the speech fixture shows as better. 0 drops to the simplest
 * pitch estimator for ~5 us less.
 */
export const VOICE_OPUS_COMPLEXITY = 1;

export interface FrameTag {
  /** When the agent's audio for this frame reached us. */
  producedAt: number;
  /** For audio produced synchronously from a user frame (echo): when that frame arrived... */
  rxAt?: number;
  /** ...and its index in the inbound frame sequence. */
  liveIndex?: number;
}

/**
 * One queued frame: its PCM and the tag fields copied from the push that
 * completed it. Records are pooled (see OutboundAudio.spare), so a caller's
 * tag object may be reused as soon as push() returns.
 */
interface OutFrame extends FrameTag {
  pcm: Int16Array;
  producedAt: number;
  rxAt: number | undefined;
  liveIndex: number | undefined;
}

/** Frame records kept for reuse: a live pacer holds a few; model speech allocates past this. */
const MAX_SPARE_RECORDS = 16;

export interface OutboundOptions {
  now: () => number;
  setTimer: (ms: number, fn: () => void) => () => void;
  /** `payload` is valid only during the call (a view of a buffer reused per packet): copy what you keep. */
  sendRtp: (payload: Buffer, timestamp: number, marker: boolean) => void;
  /** Called for each packet sent, with the frame's tag. */
  onSent: (tag: FrameTag, sentAt: number) => void;
  onState: (state: AgentState) => void;
  initialTimestamp: number;
  /** Rate the encoder runs at (an Opus rate); agent audio at other rates is resampled to it. */
  sampleRate?: number;
  /** An unfinished last frame is padded and sent after the agent is quiet this long. */
  tailFlushMs?: number;
  /** Agent audio stopped this long ago → back to listening. */
  idleMs?: number;
  /** Most live frames queued at all (a memory bound, default 50: 1 s); see maxLiveAgeMs for the policy. */
  maxLiveQueue?: number;
  /**
   * Live frames that have waited longer than this (default 200 ms) are dropped
   * when the next one comes: the budget is latency, so it is measured as age,
   * not as queue depth (a stall of four frames' time leaves four frames queued
   * at once, all fresh, and the pacer sends them within maxLiveWaitMs). With
   * that bound no standing delay can form, so the age only marks a frame too
   * late to be worth sending; a receiver's jitter buffer still plays one a few
   * frames late (60 ms here dropped hundreds of frames a run at 150 echo
   * sessions, decoded late in one long turn while the core caught up).
   */
  maxLiveAgeMs?: number;
  /** Longest the pacer holds a live frame back to space packets (default 20 ms, one frame). */
  maxLiveWaitMs?: number;
  /** libopus encoder complexity, 0-10 (default VOICE_OPUS_COMPLEXITY). */
  complexity?: number;
}

/**
 * Agent PCM → resample to the encoder's rate → 20 ms frames → pacer → Opus → RTP.
 * `stop()` is the barge-in: everything queued is dropped at once.
 */
export class OutboundAudio {
  state: AgentState = 'listening';
  private readonly rate: number;
  private readonly encoder: OpusEncoder;
  private readonly resamplers = new Map<number, Resampler>();
  /** Frames are tagged by the fields in `tag` below, not by the caller's object. */
  private readonly assembler: FrameAssembler<number>;
  private readonly pacer: RtpPacer<OutFrame>;
  private readonly spare: OutFrame[] = [];
  /** Encoder output, reused for every packet (4000 bytes: the most libopus writes). */
  private readonly packet = Buffer.allocUnsafe(4000);
  /** The tag of the push being framed (copied: callers may reuse theirs). */
  private readonly tag: FrameTag = { producedAt: 0, rxAt: undefined, liveIndex: undefined };
  /** Made once: hands each framed PCM buffer to the pacer (see onFramed). */
  private readonly framed = (pcm: Int16Array) => this.onFramed(pcm);
  private cancelTail?: () => void;
  private cancelIdle?: () => void;
  /** When armIdle's quiet spell ends; NaN while audio is coming. */
  private idleDueAt = Number.NaN;
  lastSentAt = Number.NaN;
  /** Most live (echo-style) frames allowed to wait; older ones are dropped. */
  maxLiveQueue: number;
  /** Live frames older than this are dropped when the next live frame comes. */
  maxLiveAgeMs: number;

  constructor(private readonly opts: OutboundOptions) {
    this.rate = opts.sampleRate ?? 48_000;
    this.encoder = new OpusEncoder({
      sampleRate: this.rate,
      complexity: opts.complexity ?? VOICE_OPUS_COMPLEXITY,
    });
    this.assembler = new FrameAssembler<number>(this.rate / 50);
    this.maxLiveQueue = opts.maxLiveQueue ?? 50;
    this.maxLiveAgeMs = opts.maxLiveAgeMs ?? 200;
    this.pacer = new RtpPacer({
      now: opts.now,
      schedule: (at, fn) => opts.setTimer(Math.max(0, at - opts.now()), fn),
      initialTimestamp: opts.initialTimestamp,
      liveIndex: (f) => f.liveIndex,
      maxLiveWaitMs: opts.maxLiveWaitMs ?? 20,
      send: ({ frame, timestamp, marker, sentAt }) => {
        // Into one buffer per session: the RTP path copies the payload on at once (see sendRtp).
        const n = this.encoder.encodeInto(frame.pcm, this.packet);
        this.opts.sendRtp(this.packet.subarray(0, n), timestamp, marker);
        // Encoded: the PCM buffer is free for the assembler's next frame (no allocation per frame).
        this.assembler.recycle(frame.pcm);
        this.lastSentAt = sentAt;
        this.opts.onSent(frame, sentAt);
        if (this.spare.length < MAX_SPARE_RECORDS) this.spare.push(frame);
        if (this.pacer.queued === 0 && this.assembler.partial === 0) this.armIdle();
      },
    });
  }

  /** Frames waiting to go out, the unfinished one included. */
  get queued(): number {
    return this.pacer.queued + (this.assembler.partial > 0 ? 1 : 0);
  }

  get stats(): { sent: number; dropped: number; lateSlots: number; hurried: number } {
    const p = this.pacer;
    return { sent: p.sent, dropped: p.dropped, lateSlots: p.lateSlots, hurried: p.hurried };
  }

  /** Queues agent audio (mono PCM16 at `sampleRate`); `tag` is copied, so a caller may reuse it. */
  push(pcm: Int16Array, sampleRate: number, tag: FrameTag): void {
    this.tag.producedAt = tag.producedAt;
    this.tag.rxAt = tag.rxAt;
    this.tag.liveIndex = tag.liveIndex;
    this.idleDueAt = Number.NaN;
    this.setState('speaking');
    // At the encoder's rate (the usual case: the codec runs at the agent's rate) the assembler's
    // copy is the only one; a resampler would only copy it first.
    this.assembler.pushEach(
      sampleRate === this.rate ? pcm : this.resamplerFor(sampleRate).process(pcm),
      0,
      this.framed,
    );
    this.cancelTail?.();
    this.cancelTail = undefined;
    if (this.assembler.partial > 0) {
      this.cancelTail = this.opts.setTimer(this.opts.tailFlushMs ?? 60, () => {
        this.cancelTail = undefined;
        const tail = this.assembler.flush();
        if (tail) this.pacer.enqueue(this.record(tail.pcm));
      });
    }
  }

  /** A frame the assembler completed, tagged with the current push's tag. */
  private onFramed(pcm: Int16Array): void {
    // Audio made in step with the user's (echo) is live: a burst of inbound packets must not
    // turn into a standing queue that delays everything after it, so stale frames go. Stale is
    // by age: after an event-loop stall several fresh frames arrive at once, and dropping them
    // by count would lose audio the pacer can still send within its wait bound.
    if (this.tag.liveIndex !== undefined) {
      const now = this.opts.now();
      while (
        (this.pacer.queued >= this.maxLiveQueue ||
          now - (this.pacer.oldestSince ?? now) > this.maxLiveAgeMs) &&
        this.pacer.dropOldest()
      )
        mediaTotals.liveDropped++;
    }
    this.pacer.enqueue(this.record(pcm));
  }

  /** A frame record for `pcm` with the current tag, from the pool when one is spare. */
  private record(pcm: Int16Array): OutFrame {
    const r = this.spare.pop() ?? { pcm, producedAt: 0, rxAt: undefined, liveIndex: undefined };
    r.pcm = pcm;
    r.producedAt = this.tag.producedAt;
    r.rxAt = this.tag.rxAt;
    r.liveIndex = this.tag.liveIndex;
    return r;
  }

  /** Speech over the agent, not yet an interruption: its audio waits, nothing is lost. */
  pause(): void {
    this.pacer.pause();
  }

  /** The speech over the agent ended short of an interruption: the held audio goes on. */
  resume(): void {
    this.pacer.resume();
  }

  /** Barge-in: drops queued and partial audio; returns the frames dropped. */
  stop(): number {
    const dropped = this.pacer.clear() + (this.assembler.partial > 0 ? 1 : 0);
    this.assembler.clear();
    this.cancelTail?.();
    this.cancelTail = undefined;
    // Resampler history belongs to the cancelled audio.
    this.resamplers.clear();
    this.setState('listening');
    return dropped;
  }

  private resamplerFor(sampleRate: number): Resampler {
    let r = this.resamplers.get(sampleRate);
    if (!r) {
      r = new Resampler(sampleRate, this.rate, { prime: true });
      this.resamplers.set(sampleRate, r);
    }
    return r;
  }

  setState(state: AgentState): void {
    if (state === this.state) return;
    this.state = state;
    this.opts.onState(state);
  }

  close(): void {
    this.pacer.close();
    this.cancelTail?.();
    this.cancelIdle?.();
    this.cancelIdle = undefined;
    this.encoder.close();
  }

  /**
   * Back to listening idleMs after the last packet, unless more audio came.
   * Sending re-arms this after every packet, so it moves a deadline and keeps
   * one timer per quiet spell: the timer re-arms for the rest when it fires
   * early, instead of a clear and a new timer per packet.
   */
  private armIdle(): void {
    const idleMs = this.opts.idleMs ?? 100;
    this.idleDueAt = this.opts.now() + idleMs;
    if (!this.cancelIdle) this.waitIdle(idleMs);
  }

  private waitIdle(ms: number): void {
    this.cancelIdle = this.opts.setTimer(ms, this.onIdleTimer);
  }

  /** The idle timer's callback, made once (it re-arms about every idleMs while audio flows). */
  private readonly onIdleTimer = () => {
    this.cancelIdle = undefined;
    // More audio came (NaN) or a later packet moved the deadline on.
    if (Number.isNaN(this.idleDueAt)) return;
    const left = this.idleDueAt - this.opts.now();
    if (left > 0) {
      this.waitIdle(left);
      return;
    }
    this.idleDueAt = Number.NaN;
    if (this.queued === 0 && this.state === 'speaking') this.setState('listening');
  };
}
