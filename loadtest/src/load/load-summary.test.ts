import { describe, expect, it } from 'vitest';
import { CallError, type CallResult } from '../call/call-client.js';
import { formatProgress, formatSummary } from './format-summary.js';
import { failureReason, LoadAggregate } from './load-summary.js';

function result(over: Partial<CallResult> = {}): CallResult {
  return {
    sessionUrl: 'http://127.0.0.1/v1/sessions/x',
    setupMs: { signaling: 10, iceConnected: 20, dtlsConnected: 40, firstAudio: 45 },
    rttMs: { p50: 1, p95: 2, p99: 3 },
    packets: { sent: 100, received: 100, lost: 0 },
    jitterMs: 0.5,
    maxGapMs: 20,
    remoteCandidate: '127.0.0.1:3478',
    transport: 'udp',
    ...over,
  };
}

describe('failureReason', () => {
  it('names the stage, with the HTTP status for signaling errors', () => {
    expect(failureReason(new CallError('signaling', 'edge answered 503', 503))).toBe('signaling 503');
    expect(failureReason(new CallError('signaling', 'edge unreachable'))).toBe('signaling');
    expect(failureReason(new CallError('dtls', 'DTLS did not connect'))).toBe('dtls');
    expect(failureReason(new Error('boom'))).toBe('error');
    expect(failureReason(undefined)).toBe('error');
  });
});

describe('LoadAggregate', () => {
  it('pools setup stages, echoes, packets and failures into one summary', () => {
    const agg = new LoadAggregate();
    agg.started = 4;
    agg.recordSetup({ signaling: 10, iceConnected: 20, dtlsConnected: 40 });
    agg.recordSetup({ signaling: 30, iceConnected: 50, dtlsConnected: 90 });
    agg.recordSuccess(result());
    agg.recordSuccess(
      result({
        packets: { sent: 100, received: 97, lost: 3 },
        jitterMs: 2,
        setupMs: { signaling: 30, iceConnected: 50, dtlsConnected: 90, firstAudio: 95 },
      }),
    );
    for (let i = 1; i <= 100; i++) agg.recordEcho(i);
    agg.recordFailure('signaling 503', 'edge answered 503: no capacity');
    agg.recordFailure('signaling 503', 'second message is not kept');
    const s = agg.summary(1234.4);

    expect(s.sessions).toEqual({ started: 4, completed: 2, failed: 2 });
    expect(s.setupMs.signaling.p50).toBeCloseTo(10, 0);
    expect(s.setupMs.dtlsConnected.p99).toBeCloseTo(90, 0);
    expect(s.setupMs.firstAudio.p95).toBeCloseTo(95, 0);
    expect(s.rttMs.p50).toBeCloseTo(50, 0);
    expect(s.rttMs.p99).toBeCloseTo(99, 0);
    expect(s.rttMs.samples).toBe(100);
    expect(s.packets).toEqual({ sent: 200, received: 197, lost: 3, lossPercent: 1.5 });
    expect(s.jitterMs.max).toBe(2);
    expect(s.failures).toEqual({ 'signaling 503': 2 });
    expect(s.failureExamples['signaling 503']).toBe('edge answered 503: no capacity');
    expect(s.elapsedMs).toBe(1234);

    const text = formatSummary(s);
    expect(text).toContain('4 started, 2 completed, 2 failed');
    expect(text).toMatch(/dtls\s+40(\.\d+)?\s+90/);
    expect(text).toContain('lost 3 (1.5 %)');
    expect(text).toContain('signaling 503: 2');
  });

  it('reports NaN-free zeros for a run where nothing connected', () => {
    const agg = new LoadAggregate();
    agg.started = 1;
    agg.recordFailure('ice', 'ICE did not connect within 100 ms');
    const s = agg.summary(100);
    expect(s.packets.lossPercent).toBe(0);
    expect(s.rttMs.samples).toBe(0);
    expect(formatSummary(s)).toContain('echo rtt (ms): p50 -');
  });
});

describe('formatProgress', () => {
  it('shows started, up, done, failed and the recent RTT', () => {
    const line = formatProgress({
      elapsedMs: 12_000,
      target: 100,
      started: 60,
      up: 40,
      completed: 15,
      failed: 5,
      rttMs: 1.94,
    });
    expect(line).toBe('12.0 s  started 60/100  up 40  done 15  failed 5  rtt 1.9 ms');
    expect(
      formatProgress({
        elapsedMs: 0,
        target: 1,
        started: 0,
        up: 0,
        completed: 0,
        failed: 0,
        rttMs: Number.NaN,
      }),
    ).toContain('rtt -');
  });
});
