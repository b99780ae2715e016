import type { Agent, AgentFactory, AgentOutput, AudioFrame } from './agent.js';

/**
 * Reflects the caller's audio straight back, so a client can measure the
 * round trip through relay and transceiver.
 */
export class EchoAgent implements Agent {
  readonly name = 'echo';
  private closed = false;

  constructor(private readonly output: AgentOutput) {}

  onAudio(frame: AudioFrame): void {
    if (!this.closed) this.output.sendAudio({ payload: frame.payload, timestamp: frame.timestamp });
  }

  interrupt(): void {
    // Nothing is queued: every frame goes out as it arrives.
  }

  close(): void {
    this.closed = true;
  }
}

export const echoAgent: AgentFactory = (output) => new EchoAgent(output);
