import type { TurnLatency } from './client-events.js';

/**
 * Turn latency without I/O: from the last inbound speech frame of a user turn
 * to the first outbound agent packet, split into our pipeline and the agent.
 *
 * Timeline of one turn (all ms on one monotonic clock):
 *   lastRx        the turn's last speech frame arrived (RTP)
 *   lastDelivered that frame reached the agent, decoded and resampled
 *   stoppedAt     our VAD called the turn over (after its hangover)
 *   agentFirstAt  the agent's first audio of the reply reached us
 *   sentAt        its first RTP packet went out (resampled, encoded, paced)
 */
export class TurnLatencyTracker {
  private lastRx = Number.NaN;
  private lastDelivered = Number.NaN;
  private stoppedAt = Number.NaN;
  private agentFirstAt = Number.NaN;
  private waiting = false;

  /** A speech frame was handed to the agent. */
  speechFrame(rxAt: number, deliveredAt: number): void {
    this.lastRx = rxAt;
    this.lastDelivered = deliveredAt;
  }

  /** Our VAD ended the turn; the next agent audio is the reply. */
  turnEnded(at: number): void {
    if (Number.isNaN(this.lastRx)) return;
    this.stoppedAt = at;
    this.agentFirstAt = Number.NaN;
    this.waiting = true;
  }

  /** The user spoke again before a reply: the old turn is not answered on its own. */
  turnResumed(): void {
    this.waiting = false;
  }

  agentAudio(at: number): void {
    if (this.waiting && Number.isNaN(this.agentFirstAt)) this.agentFirstAt = at;
  }

  /** A packet went out; returns the turn's figures for the first one after the agent replied. */
  packetSent(sentAt: number): TurnLatency | undefined {
    if (!this.waiting || Number.isNaN(this.agentFirstAt)) return undefined;
    this.waiting = false;
    const inboundMs = this.lastDelivered - this.lastRx;
    const outboundMs = sentAt - this.agentFirstAt;
    const agentMs = this.agentFirstAt - this.lastDelivered;
    return {
      totalMs: round(sentAt - this.lastRx),
      pipelineMs: round(inboundMs + outboundMs),
      inboundMs: round(inboundMs),
      outboundMs: round(outboundMs),
      agentMs: round(agentMs),
      endpointMs: round(Math.min(agentMs, Math.max(0, this.stoppedAt - this.lastDelivered))),
    };
  }
}

/** A bounded sample of recent values with percentiles. */
export class RecentSamples {
  private readonly values: number[] = [];
  count = 0;

  constructor(private readonly size = 500) {}

  add(v: number): void {
    this.count++;
    this.values.push(v);
    if (this.values.length > this.size) this.values.shift();
  }

  percentile(p: number): number {
    if (this.values.length === 0) return Number.NaN;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[
      Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
    ] as number;
  }
}

export function round(n: number): number {
  return Math.round(n * 100) / 100;
}
