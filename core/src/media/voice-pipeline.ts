import { randomBytes } from 'node:crypto';
import type { Logger } from '@parley/shared/log.js';
import type { Agent, AgentEvent, AgentFactory } from '../agent/agent.js';
import type { ClientEventBody } from './client-events.js';
import { JitterBuffer, type JitterBufferOptions, type JitterOutput } from './jitter-buffer.js';
import { RecentSamples, TurnLatencyTracker } from './latency.js';
import { mediaTotals, recordTurnLatency } from './media-metrics.js';
import { OpusDecoder, OpusError } from './opus-codec.js';
import { type FrameTag, OutboundAudio } from './outbound-audio.js';
import { Resampler } from './resampler.js';
import { FrameAssembler } from './rtp-pacer.js';
import { type BargeInAction, BargeInPolicy } from './turn/barge-in.js';
import { makeClassifier } from './turn/classifier-factory.js';
import { type NoiseSuppressor, RnnoiseModule } from './turn/rnnoise-wasm.js';
import {
  applyTurnUpdate,
  DEFAULT_FINAL_HANGOVER_MS,
  DEFAULT_HANGOVER_MS,
  TURN_DEFAULTS,
  type TurnConfig,
} from './turn/turn-config.js';
import { type VadOptions, VoiceActivityDetector } from './vad.js';

/** Rates libopus decodes to and encodes from directly (its own resampling is cheaper than ours). */
const OPUS_RATES = new Set([8_000, 12_000, 16_000, 24_000, 48_000]);

export interface VoicePipelineOptions {
  sessionId: string;
  agent: AgentFactory;
  /**
   * Sends one RTP packet (the session stamps sequence number and SSRC).
   * `payload` is valid only during the call (the encoder's buffer, reused).
   */
  sendRtp: (payload: Buffer, timestamp: number, marker: boolean) => void;
  /** A JSON event for the client (the session forwards it on the data channel). */
  emit: (e: ClientEventBody) => void;
  /** The agent ended; the session closes. */
  onAgentEnd: (reason: string) => void;
  log: Logger;
  /** Monotonic ms. */
  now?: () => number;
  setTimer?: (ms: number, fn: () => void) => () => void;
  jitter?: JitterBufferOptions;
  /** Energy-detector tuning (tests); the detector itself comes from `turn`. */
  vad?: VadOptions;
  /**
   * Turn-taking settings over TURN_DEFAULTS (from the session token's claim);
   * validated, a TurnConfigError when bad. `updateTurn` changes them later
   * (the client's session.update).
   */
  turn?: unknown;
  /** How often echo-style pipeline latency is summarised to the client. */
  latencyReportMs?: number;
  /** libopus complexity for the audio sent to the client (default VOICE_OPUS_COMPLEXITY). */
  encoderComplexity?: number;
}

/** What only agents that take PCM need: the codec both ways, framing, resampling, pacing. */
interface PcmPath {
  decoder: OpusDecoder;
  /** Decoder output, reused: the framer copies it on at once (120 ms, the longest packet). */
  decoded: Int16Array;
  framer: FrameAssembler<number>;
  toAgent: Resampler;
  out: OutboundAudio;
}

export interface PipelineStats {
  framesIn: number;
  concealed: number;
  fecRecovered: number;
  malformed: number;
  bargeIns: number;
  packetsOut: number;
  /** Speech over the agent that held its audio but never became a barge-in (backchannels, coughs). */
  bargeInsDropped: number;
  /** Agent packets not sent while a barge-in was pending. */
  heldPackets: number;
}

/**
 * One session's media path: RTP in → jitter buffer → Opus decode (PLC/FEC)
 * → VAD → resample → agent; agent audio → outbound (resample, 20 ms frames,
 * pacer, Opus, RTP). Barge-in, turn latency and client events live here.
 */
export class VoicePipeline {
  readonly agent: Agent;
  readonly stats: PipelineStats = {
    framesIn: 0,
    concealed: 0,
    fecRecovered: 0,
    malformed: 0,
    bargeIns: 0,
    packetsOut: 0,
    bargeInsDropped: 0,
    heldPackets: 0,
  };
  readonly jitter: JitterBuffer;
  /** Codec rate: the agent's own when Opus can run at it, so no resampling is needed either way. */
  private readonly rate: number;
  private pcmPath?: PcmPath;
  private vad: VoiceActivityDetector;
  /** The session's turn-taking settings and the detector actually running (energy when Silero cannot load). */
  turnConfig: TurnConfig;
  detector = 'energy';
  private barge: BargeInPolicy;
  private suppressor?: NoiseSuppressor;
  /** A pending barge-in: agent packets are not sent until it is confirmed or dropped. */
  private held = false;
  private heldAt = Number.NaN;
  private readonly turn = new TurnLatencyTracker();
  private readonly residence = new RecentSamples();
  private readonly now: () => number;
  private readonly setTimer: (ms: number, fn: () => void) => () => void;
  private cancelJitter?: () => void;
  private cancelReport?: () => void;
  /** Ends the user's turn on time when frames stop coming (DTX, loss, a late burst). */
  private cancelEndOfTurn?: () => void;
  private lastFrameSamples: number;
  private mediaMs = 0;
  private speechOnsetRx = Number.NaN;
  /**
   * Inside agent.onAudio: audio the agent returns now was made from the
   * frame received at syncRxAt with index syncIndex (-1: not inside). Plain
   * fields, not an object per frame.
   */
  private syncRxAt = 0;
  private syncIndex = -1;
  /** The tag for agent audio, reused: OutboundAudio copies its fields. */
  private readonly outTag: FrameTag = { producedAt: 0, rxAt: undefined, liveIndex: undefined };
  /** Made once: the inbound framer's per-frame callback (no closure per packet). */
  private readonly framed = (pcm: Int16Array, rxAt: number) => this.onFrame(pcm, rxAt);
  /** After a barge-in, agent audio is dropped until it starts a new response or the user's turn ends. */
  private muted = false;
  private responseActive = false;
  private closed = false;

  constructor(private readonly opts: VoicePipelineOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.setTimer =
      opts.setTimer ??
      ((ms, fn) => {
        // Media timers never keep a process alive on their own: sockets do that.
        const t = setTimeout(fn, ms).unref();
        return () => clearTimeout(t);
      });
    this.jitter = new JitterBuffer(opts.jitter);
    this.turnConfig = applyTurnUpdate(TURN_DEFAULTS, opts.turn);
    this.barge = this.buildBargeIn();
    // Replaced below once the codec rate is known; the agent factory must not see it unset.
    this.vad = new VoiceActivityDetector(opts.vad);
    this.agent = opts.agent(
      {
        audio: (pcm, rate) => this.onAgentAudio(pcm, rate),
        event: (e) => this.onAgentEvent(e),
        end: (reason) => {
          if (this.closed) return;
          mediaTotals.agentEnded++;
          opts.emit({ type: 'session.ended', reason: `agent: ${reason}` });
          opts.onAgentEnd(reason);
        },
      },
      {
        sessionId: opts.sessionId,
        sendRtpPayload: (payload, ts, marker) => {
          if (this.closed) return;
          this.count('packetsOut');
          opts.sendRtp(payload, ts, marker ?? false);
        },
      },
    );
    this.rate = OPUS_RATES.has(this.agent.sampleRate) ? this.agent.sampleRate : 48_000;
    this.lastFrameSamples = this.rate / 50;
    // An agent that is never interrupted (echo) uses turns only for client events: the energy
    // detector does that at 0.02 % of a core instead of Silero's ~0.7 %, unless the session asks.
    const asked = typeof opts.turn === 'object' && opts.turn !== null && 'detector' in opts.turn;
    if (!this.agent.bargeIn && !asked) this.turnConfig = { ...this.turnConfig, detector: 'energy' };
    this.vad = this.buildVad();
    // Agents that take RTP payloads as they are (rtp-echo) need no codec, resampler or pacer:
    // skipping them saves ~100 KiB of WebAssembly heap and the setup CPU per session.
    if (!this.agent.onRtpPayload) this.pcmPath = this.buildPcmPath();
    this.buildSuppressor();
    opts.emit({
      type: 'session.ready',
      sessionId: opts.sessionId,
      agent: this.agent.name,
      agentSampleRate: this.agent.sampleRate,
    });
    this.scheduleReport(opts.latencyReportMs ?? 5_000);
  }

  /**
   * Applies a client's `session.update` turn settings (validated; throws
   * TurnConfigError). Endpointing and barge-in change at once; a new detector
   * or noise setting starts a fresh detector (the open turn, if any, ends).
   */
  updateTurn(update: unknown): TurnConfig {
    const next = applyTurnUpdate(this.turnConfig, update);
    const prev = this.turnConfig;
    this.turnConfig = next;
    // A pending barge-in belongs to the old policy: release the agent rather than hold it forever.
    if (this.held) this.pcmPath?.out.resume();
    this.held = false;
    this.barge = this.buildBargeIn();
    if (
      next.detector !== prev.detector ||
      next.hangoverMs !== prev.hangoverMs ||
      next.finalHangoverMs !== prev.finalHangoverMs ||
      next.minSpeechMs !== prev.minSpeechMs
    ) {
      if (this.vad.speaking) this.endTurn(this.mediaMs);
      this.vad.close();
      this.vad = this.buildVad();
    }
    if (next.noiseSuppression !== prev.noiseSuppression) this.buildSuppressor();
    return next;
  }

  private buildVad(): VoiceActivityDetector {
    const cfg = this.turnConfig;
    const made = makeClassifier(cfg.detector, this.rate);
    if (made.fallback)
      this.opts.log.warn(
        { session: this.opts.sessionId, reason: made.fallback },
        'Silero VAD unavailable; energy VAD',
      );
    this.detector = made.detector;
    const hangoverSet = (this.opts.vad?.hangoverMs ?? cfg.hangoverMs) !== undefined;
    return new VoiceActivityDetector({
      ...this.opts.vad,
      startFrames: Math.max(1, Math.round(cfg.minSpeechMs / 20)),
      hangoverMs: this.opts.vad?.hangoverMs ?? cfg.hangoverMs ?? DEFAULT_HANGOVER_MS[made.detector],
      // The prosodic end-of-turn cue: on with the detector's default unless the session set its own hangover
      // (a session asking for a hangover gets exactly that, unless it also sets the final one).
      finalHangoverMs:
        this.opts.vad?.finalHangoverMs ??
        cfg.finalHangoverMs ??
        (hangoverSet ? undefined : DEFAULT_FINAL_HANGOVER_MS[made.detector]),
      rate: this.rate,
      classifier: made.detector === 'energy' ? undefined : made.classifier,
    });
  }

  private buildBargeIn(): BargeInPolicy {
    return new BargeInPolicy({
      confirmMs: this.turnConfig.bargeInConfirmMs,
      resumeMs: this.turnConfig.bargeInResumeMs,
    });
  }

  /** RNNoise before the VAD and the agent, when asked for; the WebAssembly loads once per process. */
  private buildSuppressor(): void {
    this.suppressor?.close();
    this.suppressor = undefined;
    if (!this.turnConfig.noiseSuppression || !this.pcmPath) return;
    const ready = RnnoiseModule.ready;
    if (ready) {
      this.suppressor = ready.suppressor(this.rate);
      return;
    }
    // The first session to ask waits for the module; its first frames go through unfiltered.
    RnnoiseModule.load().then(
      (m) => {
        if (!this.closed && this.turnConfig.noiseSuppression && !this.suppressor)
          this.suppressor = m.suppressor(this.rate);
      },
      (err: Error) =>
        this.opts.log.warn(
          { session: this.opts.sessionId, err: err.message },
          'noise suppression unavailable',
        ),
    );
  }

  private buildPcmPath(): PcmPath {
    const { opts } = this;
    const out = new OutboundAudio({
      now: this.now,
      setTimer: this.setTimer,
      initialTimestamp: randomBytes(4).readUInt32BE(0),
      sampleRate: this.rate,
      complexity: opts.encoderComplexity,
      sendRtp: (payload, ts, marker) => {
        if (this.held) {
          // Only a frame already due as the hold began: the pacer is paused, the rest waits.
          this.count('heldPackets');
          return;
        }
        this.stats.packetsOut++;
        mediaTotals.packetsOut++;
        opts.sendRtp(payload, ts, marker);
      },
      onSent: (tag, sentAt) => {
        if (tag.rxAt !== undefined) this.residence.add(sentAt - tag.rxAt);
        const turn = this.turn.packetSent(sentAt);
        if (turn) {
          recordTurnLatency(turn);
          opts.emit({ type: 'latency.turn', ...turn });
        }
      },
      onState: (state) => opts.emit({ type: 'agent.state', state }),
    });
    if (this.agent.maxLiveQueue !== undefined) out.maxLiveQueue = this.agent.maxLiveQueue;
    return {
      decoder: new OpusDecoder(this.rate, 1),
      decoded: new Int16Array((this.rate / 1000) * 120),
      framer: new FrameAssembler<number>(this.rate / 50),
      toAgent: new Resampler(this.rate, this.agent.sampleRate, { prime: true }),
      out,
    };
  }

  private count(k: keyof PipelineStats): void {
    this.stats[k]++;
    mediaTotals[k]++;
  }

  /** Waits for the agent to connect (bridges); rejects with why it could not. */
  async ready(): Promise<void> {
    await this.agent.ready?.();
  }

  /** One inbound RTP packet (already SRTP-decrypted). */
  onRtp(seq: number, timestamp: number, payload: Buffer): void {
    if (this.closed) return;
    if (this.agent.onRtpPayload) {
      this.agent.onRtpPayload(payload, timestamp);
      return;
    }
    const arrivedAt = this.now();
    // In order with nothing held (nearly every packet): decoded at once, with no jitter-buffer
    // records, and no timer to re-arm (none is pending while nothing is held).
    if (this.jitter.takeInOrder(seq)) this.decodePacket(payload, arrivedAt);
    else this.handle(this.jitter.push({ seq, timestamp, payload, arrivedAt }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelJitter?.();
    this.cancelReport?.();
    this.cancelEndOfTurn?.();
    this.vad.close();
    this.suppressor?.close();
    this.pcmPath?.out.close();
    this.pcmPath?.decoder.close();
    try {
      this.agent.close();
    } catch (err) {
      this.opts.log.warn({ session: this.opts.sessionId, err: (err as Error).message }, 'agent close failed');
    }
  }

  private handle(outputs: JitterOutput[]): void {
    for (const o of outputs) this.decode(o);
    this.cancelJitter?.();
    this.cancelJitter = undefined;
    const due = this.jitter.nextDeadline();
    if (due !== undefined) {
      this.cancelJitter = this.setTimer(Math.max(0, due - this.now()), () => {
        this.cancelJitter = undefined;
        if (!this.closed) this.handle(this.jitter.poll(this.now()));
      });
    }
  }

  private decode(o: JitterOutput): void {
    if (o.kind === 'packet') this.decodePacket(o.packet.payload, o.packet.arrivedAt);
    else this.decodeLost(o.next?.payload);
  }

  private decodePacket(payload: Uint8Array, rxAt: number): void {
    if (!this.pcmPath) return;
    const { decoder, decoded } = this.pcmPath;
    let n: number;
    try {
      n = decoder.decodeInto(payload, decoded);
      this.lastFrameSamples = n;
    } catch (err) {
      n = this.concealMalformed(err);
    }
    this.pcmPath.framer.pushEach(decoded, rxAt, this.framed, n);
  }

  /** A lost packet: rebuilt from the next one's in-band FEC when it is here, else concealed. */
  private decodeLost(next: Uint8Array | undefined): void {
    if (!this.pcmPath) return;
    const { decoder, decoded } = this.pcmPath;
    const rxAt = this.now();
    let n: number;
    try {
      if (next) {
        n = decoder.decodeFecInto(next, this.lastFrameSamples, decoded);
        this.count('fecRecovered');
      } else {
        n = decoder.concealInto(this.lastFrameSamples, decoded);
        this.count('concealed');
      }
    } catch (err) {
      n = this.concealMalformed(err);
    }
    this.pcmPath.framer.pushEach(decoded, rxAt, this.framed, n);
  }

  /** A malformed packet is dropped and counted; its slot is concealed so media time stays right. */
  private concealMalformed(err: unknown): number {
    if (!(err instanceof OpusError)) throw err;
    this.count('malformed');
    const { decoder, decoded } = this.pcmPath as PcmPath;
    return decoder.concealInto(this.lastFrameSamples, decoded);
  }

  private onFrame(raw: Int16Array, rxAt: number): void {
    // Per frame: plain increments, not count()'s keyed ones.
    this.stats.framesIn++;
    mediaTotals.framesIn++;
    const pcm = this.suppressor ? this.suppressor.process(raw) : raw;
    const ev = this.vad.process(pcm, rxAt);
    const mediaMs = this.mediaMs;
    this.mediaMs += 20;
    if (ev?.type === 'speech_started') {
      // The VAD fires after minSpeechMs of speech frames; the turn began with the first of them.
      this.speechOnsetRx = rxAt - Math.max(0, Math.round(this.turnConfig.minSpeechMs / 20) - 1) * 20;
      this.opts.emit({ type: 'speech.started' });
      this.turn.turnResumed();
    }
    if (this.agent.bargeIn && ev?.type !== 'speech_stopped') {
      // Every speech frame over the agent counts, from the first: holding its audio costs nothing
      // when released, and waiting for the turn's onset run would let 1-2 more packets through.
      const talking = !this.muted && this.agentTalking();
      if (ev?.type === 'speech_started' && this.barge.state === 'idle' && talking)
        this.bargeInAction(this.barge.turnStarted(this.speechOnsetRx, this.turnConfig.minSpeechMs));
      else
        this.bargeInAction(
          this.barge.frame(this.vad.lastFrameWasSpeech, rxAt, talking, this.vad.lastFrameConfident),
        );
    }
    if (ev?.type === 'speech_started') this.agent.onSpeech({ type: 'speech_started', mediaMs });
    const path = this.pcmPath;
    if (!path) return;
    // At the agent's own rate the frame goes as it is: the framer (or the suppressor) made it for
    // this call and nothing here keeps it, so the copy a pass-through resampler makes is waste.
    const agentPcm = path.toAgent.passthrough ? pcm : path.toAgent.process(pcm);
    this.syncRxAt = rxAt;
    this.syncIndex = this.stats.framesIn;
    try {
      this.agent.onAudio({ pcm: agentPcm, mediaMs, speech: this.vad.speaking });
    } finally {
      this.syncIndex = -1;
    }
    // Everything above read the frame synchronously (the VAD and its cue copy what they keep): an
    // agent that copies too lets the framer reuse the buffer. Otherwise each frame takes a new slice
    // of a 16-frame slab, and slabs live long enough (320 ms) to be promoted: ~5 MiB/s of backing
    // stores at 150 echo sessions, freed only by major GCs, which that growth then triggered.
    if (this.agent.copiesAudio) path.framer.recycle(raw);
    if (this.vad.lastFrameWasSpeech) this.turn.speechFrame(rxAt, this.now());
    if (ev?.type === 'speech_stopped') this.endTurn(mediaMs);
    else this.armEndOfTurn();
  }

  /**
   * While a turn is open, a timer at its hangover's end: if no speech frame
   * came by then the turn ends even when no frame came at all, because the
   * hangover is time, and a client may stop sending in silence (DTX) or its
   * last frames may arrive late in a burst. One timer per turn, re-armed
   * only when it fires early (more speech came meanwhile).
   */
  private armEndOfTurn(): void {
    if (this.cancelEndOfTurn) return;
    const due = this.vad.endDueAt();
    if (due === undefined) return;
    this.cancelEndOfTurn = this.setTimer(Math.max(0, due - this.now()), () => {
      this.cancelEndOfTurn = undefined;
      if (this.closed) return;
      if (this.vad.tick(this.now())?.type === 'speech_stopped') this.endTurn(this.mediaMs);
      else this.armEndOfTurn();
    });
  }

  private endTurn(mediaMs: number): void {
    this.cancelEndOfTurn?.();
    this.cancelEndOfTurn = undefined;
    this.bargeInAction(this.barge.turnEnded());
    this.opts.emit({ type: 'speech.stopped' });
    this.muted = false;
    this.turn.turnEnded(this.now());
    const out = this.pcmPath?.out;
    if (out && this.agent.bargeIn && out.state === 'listening') out.setState('thinking');
    this.agent.onSpeech({ type: 'speech_stopped', mediaMs });
  }

  /** Agent audio is queued or playing, or a response is under way (a real-time producer's queue runs dry between chunks). */
  private agentTalking(): boolean {
    const out = this.pcmPath?.out;
    return (out !== undefined && (out.queued > 0 || out.state === 'speaking')) || this.responseActive;
  }

  /**
   * Speech over the agent: held at once (its packets stop going out), an
   * interruption once the user's turn has bargeInConfirmMs of speech,
   * released when it ends sooner (a backchannel, a cough).
   */
  private bargeInAction(a: BargeInAction | undefined): void {
    if (a === 'hold') {
      if (!this.held) this.heldAt = this.now();
      this.held = true;
      // Paused, not dropped: if this is only a backchannel, the reply goes on where it stopped.
      this.pcmPath?.out.pause();
    } else if (a === 'resume') {
      this.held = false;
      this.pcmPath?.out.resume();
      this.count('bargeInsDropped');
    } else if (a === 'interrupt') this.bargeIn();
  }

  private bargeIn(): void {
    const confirmedAt = this.now();
    // The audio stopped when the barge-in was first held, if it was.
    const detectedAt = this.held ? this.heldAt : confirmedAt;
    this.held = false;
    const dropped = this.pcmPath?.out.stop() ?? 0;
    this.muted = true;
    this.responseActive = false;
    this.count('bargeIns');
    this.agent.interrupt();
    this.opts.emit({
      type: 'barge_in',
      droppedFrames: dropped,
      // Held from the first speech frame, which is the onset: zero, plus processing.
      detectMs: Math.round(Math.max(0, detectedAt - this.speechOnsetRx) * 100) / 100,
      confirmMs: Math.round((confirmedAt - this.speechOnsetRx) * 100) / 100,
    });
  }

  private onAgentAudio(pcm: Int16Array, rate: number): void {
    // No PCM path: an RTP-payload agent, or one that talks from inside its own factory call.
    const out = this.pcmPath?.out;
    if (this.closed || this.muted || pcm.length === 0 || !out) return;
    const at = this.now();
    this.turn.agentAudio(at);
    const tag = this.outTag;
    const live = this.syncIndex >= 0;
    tag.producedAt = at;
    tag.rxAt = live ? this.syncRxAt : undefined;
    tag.liveIndex = live ? this.syncIndex : undefined;
    out.push(pcm, rate, tag);
  }

  private onAgentEvent(e: AgentEvent): void {
    // Until the factory returns (this.agent unset) there is nothing to act on; after it, events
    // count for PCM agents and for RTP-payload ones (e.g. Opus passthrough), which have no PCM path.
    if (this.closed || (!this.pcmPath && !this.agent?.onRtpPayload)) return;
    switch (e.type) {
      case 'response_started':
        this.muted = false;
        this.responseActive = true;
        this.opts.emit({ type: 'response.started' });
        break;
      case 'response_done':
        this.responseActive = false;
        this.opts.emit({ type: 'response.done', status: e.status });
        break;
      case 'transcript':
        this.opts.emit({ type: 'transcript', role: e.role, text: e.text, final: e.final });
        break;
      case 'user_speech_started':
        // The agent's own turn detection heard the user: it has decided, so interrupt at once.
        if (this.agent.bargeIn && this.agentTalking()) {
          this.speechOnsetRx = this.now();
          this.bargeIn();
        }
        break;
      case 'user_speech_stopped':
        break;
    }
  }

  private scheduleReport(everyMs: number): void {
    this.cancelReport = this.setTimer(everyMs, () => {
      if (this.closed) return;
      if (this.residence.count > 0) {
        this.opts.emit({
          type: 'latency.pipeline',
          frames: this.residence.count,
          p50Ms: Math.round(this.residence.percentile(50) * 100) / 100,
          p95Ms: Math.round(this.residence.percentile(95) * 100) / 100,
        });
      }
      this.scheduleReport(everyMs);
    });
  }
}
