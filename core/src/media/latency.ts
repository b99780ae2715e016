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

/** A bounded sample of recent values (a ring: adding is O(1) on the media path) with percentiles. */
export class RecentSamples {
  private readonly values: Float64Array;
  private next = 0;
  count = 0;

  constructor(size = 500) {
    this.values = new Float64Array(size);
  }

  add(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    this.count++;
  }

  percentile(p: number): number {
    const n = Math.min(this.count, this.values.length);
    if (n === 0) return Number.NaN;
    const sorted = this.values.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))] as number;
  }
}

export function round(n: number): number {
  return Math.round(n * 100) / 100;
}
