import { describe, expect, it } from 'vitest';
import { limitOf, median, pathResult, type StepResult } from './measure-path.js';
import { readProbe, writeProbe } from './udp-probe.js';

function step(over: Partial<StepResult>): StepResult {
  return {
    ratePps: 10_000,
    sent: 10_000,
    achievedPps: 10_000,
    received: 10_000,
    lossPercent: 0,
    forwardedPps: 10_000,
    latencyMs: { p50: 0.1, p99: 1, max: 2 },
    generatorCpuShare: 0.3,
    sinkCpuShare: 0.2,
    verdict: 'ok',
    ...over,
  };
}

describe('relay bench bookkeeping', () => {
  it('blames whoever dropped the packets, or the generator when it fell behind', () => {
    expect(limitOf(undefined, true)).toBe('rate cap');
    expect(limitOf(step({ verdict: 'generator' }), true)).toBe('generator');
    expect(limitOf(step({ verdict: 'loss', targetDrops: 500, sinkDrops: 0 }), true)).toBe('target');
    expect(limitOf(step({ verdict: 'loss', targetDrops: 0, sinkDrops: 90 }), true)).toBe('sink');
    expect(limitOf(step({ verdict: 'loss', targetDrops: 0, sinkDrops: 0, targetCpuShare: 0.97 }), true)).toBe(
      'target',
    );
    expect(limitOf(step({ verdict: 'loss', sinkDrops: 10 }), false)).toBe('sink');
  });

  it('reports the median of the rounds and CPU per packet from the busier good steps', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
    const steps = [
      step({ ratePps: 20_000, forwardedPps: 20_000, cpuUsPerPacket: 30 }),
      step({ ratePps: 40_000, forwardedPps: 40_000, cpuUsPerPacket: 12 }),
      step({ ratePps: 60_000, forwardedPps: 60_000, cpuUsPerPacket: 10 }),
      step({
        ratePps: 90_000,
        forwardedPps: 70_000,
        verdict: 'loss',
        lossPercent: 20,
        targetDrops: 9,
        sinkDrops: 0,
      }),
    ];
    const best = steps[2] as StepResult;
    const r = pathResult(
      'parley',
      true,
      [],
      { steps, roundMax: [60_000, 55_000, 58_000], best, fail: steps[3] },
      true,
    );
    expect(r.maxForwardedPps).toBe(58_000);
    // The 20k step (below half the best rate) is left out: fixed costs dominate there.
    expect(r.cpuUsPerPacket).toBe(11);
    expect(r.limitedBy).toBe('target');
  });

  it('round-trips a probe and ignores anything else', () => {
    const buf = Buffer.alloc(200);
    writeProbe(buf, 0, 7, 42, 123456.789);
    expect(readProbe(buf)).toEqual({ flow: 7, seq: 42, sentAtMs: 123456.789 });
    expect(readProbe(Buffer.from('0001000021124242', 'hex'))).toBeUndefined();
  });
});
