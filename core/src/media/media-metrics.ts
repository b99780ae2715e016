import { metrics } from '@opentelemetry/api';
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
