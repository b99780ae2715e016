import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '@parley/shared/log.js';
import type { Agent, AgentFactory, AgentOutput, UserAudio } from '../agent.js';
import {
  type ConverseStream,
  parseGrpcTarget,
  type VoiceAgentClient,
  voiceAgentProto,
  type WireServerMessage,
} from './agent-proto.js';
import { interpretServerMessage, userAudioMessage } from './grpc-messages.js';

export interface GrpcAgentOptions {
  /** host:port, grpc://host:port or grpcs://host:port */
  target: string;
  /** Rate of the user audio we stream to the model server. */
  sampleRate?: number;
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
  const factory: AgentFactory = (output, ctx) => new GrpcAgent(client, output, ctx.sessionId, opts);
  return Object.assign(factory, { close: () => client.close() });
}

class GrpcAgent implements Agent {
  readonly name = 'grpc';
  readonly sampleRate: number;
  readonly bargeIn = true;
  /** User frames dropped because the server was not reading. */
  droppedFrames = 0;
  private stream?: ConverseStream;
  private congested = false;
  private pending = 0;
  private ended = false;

  constructor(
    private readonly client: VoiceAgentClient,
    private readonly output: AgentOutput,
    private readonly sessionId: string,
    private readonly opts: GrpcAgentOptions,
  ) {
    this.sampleRate = opts.sampleRate ?? 16_000;
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
    this.write({ start: { sessionId: this.sessionId, inputSampleRate: this.sampleRate, metadata: {} } });
  }

  onAudio(frame: UserAudio): void {
    if (!this.stream || this.ended) return;
    if (this.congested && this.pending >= (this.opts.maxPendingFrames ?? 50)) {
      // The server is not reading: drop rather than buffer without bound.
      this.droppedFrames++;
      return;
    }
    this.write(userAudioMessage(frame, this.sampleRate));
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

  private write(msg: Parameters<ConverseStream['write']>[0]): void {
    if (!this.stream || this.ended) return;
    if (!this.stream.write(msg)) {
      this.congested = true;
      this.pending++;
    }
  }

  private onMessage(msg: WireServerMessage): void {
    if (this.ended) return;
    const m = interpretServerMessage(msg);
    switch (m.kind) {
      case 'audio':
        this.output.audio(m.pcm, m.sampleRate);
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

  private fail(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream?.cancel();
    this.opts.log.warn({ session: this.sessionId, reason }, 'gRPC agent ended');
    this.output.end(reason);
  }
}
