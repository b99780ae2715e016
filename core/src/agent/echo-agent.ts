import type { Agent, AgentContext, AgentFactory, AgentOutput, UserAudio } from './agent.js';

/**
 * Plays the caller's own voice back after a full trip through the pipeline:
 * jitter buffer, Opus decode, resample to 16 kHz, resample back, Opus encode,
 * paced RTP. What comes back is the same audio, not the same bytes.
 */
export class EchoAgent implements Agent {
  readonly name = 'echo';
  readonly bargeIn = false; // it mirrors the caller: interrupting it would cut the caller's own voice
  readonly copiesAudio = true; // output.audio copies into the outbound framer at once
  private closed = false;

  readonly sampleRate: number;
  readonly maxLiveQueue?: number;

  constructor(
    private readonly output: AgentOutput,
    opts: { sampleRate?: number; maxLiveQueue?: number } = {},
  ) {
    this.sampleRate = opts.sampleRate ?? 16_000;
    this.maxLiveQueue = opts.maxLiveQueue;
  }

  onAudio(frame: UserAudio): void {
    if (!this.closed) this.output.audio(frame.pcm, this.sampleRate);
  }

  onSpeech(): void {}

  interrupt(): void {
    // Nothing is queued here: every frame goes out as it arrives.
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * Reflects each RTP payload unchanged, skipping the codec: a transport probe
 * (relay + transceiver round trip) that `parley call` matches packet by packet.
 */
export class RtpEchoAgent implements Agent {
  readonly name = 'rtp-echo';
  readonly sampleRate = 48_000;
  readonly bargeIn = false;
  private closed = false;

  constructor(private readonly ctx: AgentContext) {}

  onRtpPayload(payload: Buffer, timestamp: number): void {
    if (!this.closed) this.ctx.sendRtpPayload(payload, timestamp);
  }

  onAudio(): void {}
  onSpeech(): void {}
  interrupt(): void {}

  close(): void {
    this.closed = true;
  }
}

export const echoAgent: AgentFactory = (output) => new EchoAgent(output);

/** An echo agent with its own rate or live-queue bound. */
export function echoAgentWith(opts: { sampleRate?: number; maxLiveQueue?: number }): AgentFactory {
  return (output) => new EchoAgent(output, opts);
}
export const rtpEchoAgent: AgentFactory = (_output, ctx) => new RtpEchoAgent(ctx);
