import { describe, expect, it } from 'vitest';
import { RecentSamples, TurnLatencyTracker } from './latency.js';

describe('TurnLatencyTracker', () => {
  it('splits a turn into inbound, endpointing, agent and outbound time', () => {
    const t = new TurnLatencyTracker();
    t.speechFrame(1_000, 1_001);
    t.speechFrame(1_020, 1_021.5); // the turn's last speech frame
    t.turnEnded(1_520); // VAD hangover
    expect(t.packetSent(1_530)).toBeUndefined(); // no reply yet
    t.agentAudio(1_700);
    t.agentAudio(1_710); // only the first counts
    expect(t.packetSent(1_703)).toEqual({
      totalMs: 683,
      pipelineMs: 4.5,
      inboundMs: 1.5,
      outboundMs: 3,
      agentMs: 678.5,
      endpointMs: 498.5,
    });
    expect(t.packetSent(1_723)).toBeUndefined(); // reported once per turn
  });

  it('does not report a turn the user resumed before the agent answered', () => {
    const t = new TurnLatencyTracker();
    t.speechFrame(0, 1);
    t.turnEnded(500);
    t.turnResumed();
    t.agentAudio(600);
    expect(t.packetSent(601)).toBeUndefined();
  });

  it('keeps percentiles over a bounded window', () => {
    const s = new RecentSamples(10);
    for (let i = 1; i <= 100; i++) s.add(i);
    expect(s.count).toBe(100);
    expect(s.percentile(50)).toBe(95);
    expect(s.percentile(100)).toBe(100);
    expect(new RecentSamples().percentile(50)).toBeNaN();
  });
});
