import { describe, expect, it } from 'vitest';
import { CpuMeter, cpuSecondsOf, parseProcStat, parseRssBytes, rssBytesOf } from './proc-stats.js';

describe('/proc readers', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    const line =
      '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 731 69 0 0 20 0 11 0 555 1000 2000';
    expect(parseProcStat(line)).toEqual({ ticks: 800 });
    expect(() => parseProcStat('garbage')).toThrow(/stat/);
  });

  it('reads VmRSS in bytes, NaN when a zombie has none', () => {
    expect(parseRssBytes('Name:\tnode\nVmRSS:\t  51200 kB\nThreads:\t11\n')).toBe(51200 * 1024);
    expect(parseRssBytes('Name:\tnode\nState:\tZ (zombie)\n')).toBeNaN();
  });

  it('measures this process burning CPU and holding memory', () => {
    const meter = new CpuMeter(process.pid).start();
    // Burn 150 ms of CPU by getrusage (process.cpuUsage), not 150 ms of wall time: on a busy
    // machine a wall-clock loop may get only a fraction of a core. Bounded at 10 s of wall time.
    const cpu0 = process.cpuUsage();
    const deadline = performance.now() + 10_000;
    let x = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
      const used = process.cpuUsage(cpu0);
      if (used.user + used.system >= 150_000) break;
    }
    const r = meter.read();
    expect(x).toBeGreaterThan(0);
    // /proc's figure agrees with getrusage's; clock ticks are 10 ms, so allow for the rounding on both reads.
    expect(r.cpuSeconds).toBeGreaterThanOrEqual(0.13);
    expect(r.wallSeconds).toBeGreaterThan(0);
    expect(r.coreShare).toBeCloseTo(r.cpuSeconds / r.wallSeconds, 6);
    expect(cpuSecondsOf(process.pid)).toBeGreaterThan(0);
    expect(rssBytesOf(process.pid)).toBeGreaterThan(10 * 2 ** 20);
  });
});
