import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '@parley/shared/log.js';
import { RtpPacer } from '../../media/rtp-pacer.js';
import type { Agent, AgentContext, AgentFactory, AgentOutput, UserAudio } from '../agent.js';
import {
  type ConverseStream,
  parseGrpcTarget,
  type VoiceAgentClient,
  voiceAgentProto,
  type WireServerMessage,
} from './agent-proto.js';
import {
  interpretServerMessage,
  type ServerMeaning,
  userAudioMessage,
  userOpusMessage,
} from './grpc-messages.js';

/** What AudioChunks carry: PCM16 (we decode, run the VAD, encode) or the call's own Opus packets. */
export type GrpcAgentCodec = 'pcm16' | 'opus';

export interface GrpcAgentOptions {
  /** host:port, grpc://host:port or grpcs://host:port */
  target: string;
  /** Rate of the user audio we stream to the model server (PCM16). */
  sampleRate?: number;
  /**
   * 'opus': RTP payloads go to the server and its Opus packets come back as
   * RTP payloads, with no decode, encode or VAD here (turn-taking is the
   * server's). Default 'pcm16'.
   */
  codec?: GrpcAgentCodec;
  /** How long session setup waits for the server to be reachable. */
  connectTimeoutMs?: number;
  /** User audio buffered while the stream is congested before frames are dropped. */
  maxPendingFrames?: number;
  log: Logger;
}

/**
 * The transceiver side of parley.agent.v1: one bidirectional Converse stream
 * per session over a channel shared by all sessions. Anything wrong on the
 * stream (server gone, malformed message, error message) ends the session
 * with a reason the client sees; nothing here throws into the media path.
 */
export function grpcAgent(opts: GrpcAgentOptions): AgentFactory & { close(): void } {
  const { Client } = voiceAgentProto();
  const { address, credentials } = parseGrpcTarget(opts.target);
  const client = new Client(address, credentials, {
    // Voice sessions are long-lived; keep the shared connection checked.
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
  }) as unknown as VoiceAgentClient;
  const factory: AgentFactory = (output, ctx) =>
    opts.codec === 'opus'
      ? new GrpcOpusAgent(client, output, ctx, opts)
      : new GrpcAgent(client, output, ctx, opts);
  return Object.assign(factory, { close: () => client.close() });
}

class GrpcAgent implements Agent {
  readonly name = 'grpc';
  readonly sampleRate: number;
  readonly bargeIn = true;
  readonly copiesAudio = true; // userAudioMessage copies the PCM (the stream may hold the message)
  /** User frames dropped because the server was not reading. */
  droppedFrames = 0;
  protected readonly sessionId: string;
  private stream?: ConverseStream;
  private congested = false;
  private pending = 0;
  protected ended = false;

  constructor(
    private readonly client: VoiceAgentClient,
    protected readonly output: AgentOutput,
    protected readonly ctx: AgentContext,
    private readonly opts: GrpcAgentOptions,
  ) {
    this.sessionId = ctx.sessionId;
    this.sampleRate = opts.codec === 'opus' ? 48_000 : (opts.sampleRate ?? 16_000);
  }

  /** Waits until the server is reachable, then opens the stream. */
  async ready(): Promise<void> {
    const timeout = this.opts.connectTimeoutMs ?? 5_000;
    await new Promise<void>((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeout, (err) =>
        err
          ? reject(
              new Error(`gRPC agent at ${this.opts.target} unreachable within ${timeout} ms: ${err.message}`),
            )
          : resolve(),
      ),
    );
    // The session may have been closed while we waited.
    if (!this.ended) this.open();
  }

  private open(): void {
    const stream = this.client.Converse();
    this.stream = stream;
    stream.on('data', (msg: WireServerMessage) => this.onMessage(msg));
    stream.on('error', (err: grpc.ServiceError) =>
      this.fail(`gRPC agent stream failed: ${err.details || err.message}`),
    );
    stream.on('end', () => this.fail('gRPC agent closed the stream'));
    stream.on('drain', () => {
      this.congested = false;
      this.pending = 0;
    });
    this.write({
      start: {
        sessionId: this.sessionId,
        inputSampleRate: this.sampleRate,
        metadata: {},
        codec: this.opts.codec === 'opus' ? 'OPUS' : 'PCM16',
      },
    });
  }

  onAudio(frame: UserAudio): void {
    if (this.mayWriteAudio()) this.write(userAudioMessage(frame, this.sampleRate));
  }

  protected mayWriteAudio(): boolean {
    if (!this.stream || this.ended) return false;
    if (this.congested && this.pending >= (this.opts.maxPendingFrames ?? 50)) {
      // The server is not reading: drop rather than buffer without bound.
      this.droppedFrames++;
      return false;
    }
    return true;
  }

  onSpeech(e: { type: 'speech_started' | 'speech_stopped'; mediaMs: number }): void {
    const mediaMs = Math.round(e.mediaMs);
    this.write(e.type === 'speech_started' ? { speechStarted: { mediaMs } } : { speechStopped: { mediaMs } });
  }

  interrupt(): void {
    this.write({ interrupt: {} });
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    // Half-close: the server sees the end of our stream; cancel in case it never answers.
    this.stream?.end();
    this.stream?.cancel();
  }

  protected write(msg: Parameters<ConverseStream['write']>[0]): void {
    if (!this.stream || this.ended) return;
    if (!this.stream.write(msg)) {
      this.congested = true;
      this.pending++;
    }
  }

  private onMessage(msg: WireServerMessage): void {
    if (!this.ended) this.handle(interpretServerMessage(msg));
  }

  protected handle(m: ServerMeaning): void {
    switch (m.kind) {
      case 'audio':
        this.output.audio(m.pcm, m.sampleRate);
        break;
      case 'opus':
        this.fail('gRPC agent sent Opus audio in a PCM16 session');
        break;
      case 'event':
        this.output.event(m.event);
        break;
      case 'error':
        this.fail(`gRPC agent reported ${m.reason}`);
        break;
      case 'malformed':
        this.fail(`gRPC agent sent a malformed message: ${m.reason}`);
        break;
      case 'ignore':
        break;
    }
  }

  protected fail(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream?.cancel();
    this.opts.log.warn({ session: this.sessionId, reason }, 'gRPC agent ended');
    this.output.end(reason);
  }
}

/**
 * Opus passthrough: the caller's RTP payloads go to the server as they
 * arrive (no jitter buffer: its decoder conceals), and the server's Opus
 * packets are paced out at 20 ms as RTP payloads, timestamps +960 each.
 * Nothing is decoded or encoded here, so there is no VAD either: the server
 * detects turns, and its user_speech_started drops what we have queued.
 */
class GrpcOpusAgent extends GrpcAgent {
  private readonly pacer: RtpPacer<Buffer>;
  /** RTP timestamp of the first user packet: media time 0. */
  private firstTs?: number;

  constructor(client: VoiceAgentClient, output: AgentOutput, ctx: AgentContext, opts: GrpcAgentOptions) {
    super(client, output, ctx, opts);
    this.pacer = new RtpPacer<Buffer>({
      now: () => performance.now(),
      schedule: (at, fn) => {
        // Like the pipeline's media timers: never what keeps the process alive.
        const t = setTimeout(fn, Math.max(0, at - performance.now())).unref();
        return () => clearTimeout(t);
      },
      initialTimestamp: randomBytes(4).readUInt32BE(0),
      send: ({ frame, timestamp, marker }) => this.ctx.sendRtpPayload(frame, timestamp, marker),
    });
  }

  onRtpPayload(payload: Buffer, timestamp: number): void {
    this.firstTs ??= timestamp;
    // Signed difference: a packet reordered ahead of the first one is not four billion ticks late.
    const mediaMs = ((timestamp - this.firstTs) | 0) / 48;
    if (this.mayWriteAudio()) this.write(userOpusMessage(payload, mediaMs));
  }

  override interrupt(): void {
    this.pacer.clear();
    super.interrupt();
  }

  override close(): void {
    this.pacer.close();
    super.close();
  }

  protected override fail(reason: string): void {
    this.pacer.close();
    super.fail(reason);
  }

  protected override handle(m: ServerMeaning): void {
    switch (m.kind) {
      case 'opus':
        this.pacer.enqueue(m.packet);
        return;
      case 'audio':
        // An empty chunk carries nothing; PCM would need the encoder this mode does without.
        if (m.pcm.length) this.fail('gRPC agent sent PCM audio in an Opus session');
        return;
      case 'event':
        // The server heard the user: its queued reply goes now (the session then interrupts it).
        if (m.event.type === 'user_speech_started') this.pacer.clear();
        break;
    }
    super.handle(m);
  }
}
