import { type Histogram, metrics } from '@opentelemetry/api';
import type { TurnLatency } from './client-events.js';
import type { PipelineStats } from './voice-pipeline.js';

/**
 * Process-wide media counters: every session's pipeline adds to these plain
 * integers on the media path, and Prometheus reads them through observable
 * instruments, so a packet costs an increment and nothing more.
 */
export const mediaTotals: PipelineStats & { liveDropped: number; agentEnded: number } = {
  framesIn: 0,
  concealed: 0,
  fecRecovered: 0,
  malformed: 0,
  bargeIns: 0,
  packetsOut: 0,
  bargeInsDropped: 0,
  heldPackets: 0,
  liveDropped: 0,
  agentEnded: 0,
};

export function registerMediaMetrics(): void {
  const meter = metrics.getMeter('parley.media');
  const frames = meter.createObservableCounter('parley_media_frames', {
    description:
      'Inbound 20 ms frames by how they were obtained: decoded, concealed (PLC), fec, malformed (concealed)',
  });
  const packetsOut = meter.createObservableCounter('parley_media_packets_out', {
    description: 'RTP packets sent to clients (agent audio)',
  });
  const bargeIns = meter.createObservableCounter('parley_media_barge_ins', {
    description: 'Times the caller talked over the agent and its audio was stopped',
  });
  const dropped = meter.createObservableCounter('parley_media_frames_dropped', {
    description: 'Outbound frames dropped: stale live (echo) frames behind a burst',
  });
  const agentEnded = meter.createObservableCounter('parley_media_agent_ended', {
    description: 'Sessions ended by their agent (disconnect, malformed message, error)',
  });
  meter.addBatchObservableCallback(
    (r) => {
      const t = mediaTotals;
      r.observe(frames, t.framesIn - t.concealed - t.fecRecovered - t.malformed, { kind: 'decoded' });
      r.observe(frames, t.concealed, { kind: 'concealed' });
      r.observe(frames, t.fecRecovered, { kind: 'fec' });
      r.observe(frames, t.malformed, { kind: 'malformed' });
      r.observe(packetsOut, t.packetsOut);
      r.observe(bargeIns, t.bargeIns);
      r.observe(dropped, t.liveDropped, { reason: 'live_backlog' });
      r.observe(agentEnded, t.agentEnded);
    },
    [frames, packetsOut, bargeIns, dropped, agentEnded],
  );
}

/** Seconds, for turn-sized latencies: 25 ms to 5 s. */
const TURN_BUCKETS = [0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5];
let turnHistogram: Histogram | undefined;

/**
 * One user turn's reply latency, by part, into `parley_media_turn_latency_seconds{part}`:
 * total (last word to first reply packet), agent (the model's share), endpoint (the part of
 * the agent's share spent waiting for our end-of-turn call) and pipeline (ours). Once per
 * turn, not per packet; a no-op until an OpenTelemetry meter provider is installed.
 */
export function recordTurnLatency(t: TurnLatency): void {
  turnHistogram ??= metrics.getMeter('parley.media').createHistogram('parley_media_turn_latency_seconds', {
    description:
      'Reply latency per user turn, by part: total, agent (model), endpoint (end-of-turn wait inside agent), pipeline (transceiver)',
    unit: 's',
    advice: { explicitBucketBoundaries: TURN_BUCKETS },
  });
  turnHistogram.record(t.totalMs / 1000, { part: 'total' });
  turnHistogram.record(t.agentMs / 1000, { part: 'agent' });
  turnHistogram.record(t.endpointMs / 1000, { part: 'endpoint' });
  turnHistogram.record(t.pipelineMs / 1000, { part: 'pipeline' });
}
