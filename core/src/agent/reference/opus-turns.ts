import { OpusDecoder, OpusEncoder, OpusError } from '../../media/opus-codec.js';
import { FrameAssembler } from '../../media/rtp-pacer.js';
import { VoiceActivityDetector } from '../../media/vad.js';

/** What the reference server does with an Opus session's audio. */
export interface OpusTurnHooks {
  /** User audio heard (for the reply's "n s of speech" transcript). */
  heard(samples: number, sampleRate: number): void;
  /** The user started talking (at this media time, ms), whether or not we are replying. */
  speechStarted(mediaMs: number): void;
  speechStopped(): void;
  /** One 20 ms Opus packet of reply audio to send. */
  packet(opus: Buffer): void;
}

/** The rate user audio is decoded at: the VAD only needs speech bandwidth. */
const LISTEN_RATE = 16_000;

/**
 * The reference server's side of an Opus session (SessionStart.codec OPUS):
 * the transceiver sends the caller's packets and no turn signals, so the
 * server decodes them and runs its own VAD (the transceiver's detector, on
 * the packets' media time) to find turns, and encodes its reply to 20 ms
 * Opus packets. Packets are decoded in arrival order: good enough for a
 * reference on loopback; a real server would reorder by media_ms and
 * conceal gaps.
 */
export class OpusTurns {
  private readonly decoder = new OpusDecoder(LISTEN_RATE, 1);
  private readonly pcm = new Int16Array((LISTEN_RATE / 1000) * 120);
  private readonly vad = new VoiceActivityDetector();
  private encoder?: OpusEncoder;
  private framer?: FrameAssembler<number>;

  constructor(private readonly hooks: OpusTurnHooks) {}

  /** One user packet, at `mediaMs` of the session's media time. */
  userPacket(opus: Buffer, mediaMs: number): void {
    let n: number;
    try {
      n = this.decoder.decodeInto(opus, this.pcm);
    } catch (err) {
      if (!(err instanceof OpusError)) throw err;
      n = this.decoder.concealInto(LISTEN_RATE / 50, this.pcm);
    }
    this.hooks.heard(n, LISTEN_RATE);
    const ev = this.vad.process(this.pcm.subarray(0, n), mediaMs);
    if (ev?.type === 'speech_started') this.hooks.speechStarted(ev.at);
    else if (ev?.type === 'speech_stopped') this.hooks.speechStopped();
  }

  /** Reply audio (any Opus rate), cut into 20 ms frames and encoded at that rate. */
  replyAudio(pcm: Int16Array, sampleRate: number): void {
    if (this.encoder?.sampleRate !== sampleRate) {
      this.encoder?.close();
      this.encoder = new OpusEncoder({ sampleRate });
      this.framer = new FrameAssembler<number>(sampleRate / 50);
    }
    for (const f of this.framer?.push(pcm, 0) ?? []) this.hooks.packet(this.encode(f.pcm));
  }

  /** End of a reply: its last partial frame, padded with silence. */
  flush(): void {
    const tail = this.framer?.flush();
    if (tail) this.hooks.packet(this.encode(tail.pcm));
  }

  /** An interrupted reply: drop its partial frame and the encoder's history of it. */
  clear(): void {
    this.framer?.clear();
    this.encoder?.reset();
  }

  close(): void {
    this.decoder.close();
    this.encoder?.close();
  }

  private encode(pcm: Int16Array): Buffer {
    return (this.encoder as OpusEncoder).encode(pcm);
  }
}
