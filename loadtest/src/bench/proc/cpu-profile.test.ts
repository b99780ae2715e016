import { describe, expect, it } from 'vitest';
import { type CpuProfile, formatProfileSummary, shortUrl, summarizeProfile } from './cpu-profile.js';

// A root with three children; samples 1 ms apart starting at t = 1000 µs.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4] },
    { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    {
      id: 3,
      callFrame: {
        functionName: 'send',
        url: 'file:///r/loadtest/dist/bench/capacity/media-pump.js',
        lineNumber: 9,
      },
    },
    {
      id: 4,
      callFrame: { functionName: '', url: 'file:///r/node_modules/werift/lib/index.mjs', lineNumber: 0 },
    },
  ],
  startTime: 1000,
  endTime: 7000,
  samples: [2, 3, 3, 4, 3, 2],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
};

describe('summarizeProfile', () => {
  it('adds self time per function, largest first, as shares of the sampled time', () => {
    const s = summarizeProfile(profile);
    // Each sample lasts until the next one; the last has no successor and counts 0.
    expect(s.sampledMs).toBe(5);
    expect(s.idleMs).toBe(1);
    expect(s.top[0]).toEqual({
      fn: 'send loadtest/dist/bench/capacity/media-pump.js:10',
      selfMs: 3,
      share: 0.6,
    });
    expect(s.top.map((e) => e.fn)).toContain('(anonymous) werift/lib/index.mjs:1');
  });

  it('keeps only the samples inside the windows', () => {
    // Samples at 2000 and 3000 µs (both `send`).
    const s = summarizeProfile(profile, [{ fromUs: 2000, toUs: 3500 }]);
    expect(s.sampledMs).toBe(2);
    expect(s.top).toHaveLength(1);
    expect(s.top[0]?.share).toBe(1);
  });

  it('formats a header and one line per function', () => {
    const text = formatProfileSummary('gen', summarizeProfile(profile), 2);
    expect(text.split('\n')).toHaveLength(3);
    expect(text).toMatch(/^gen: 5 ms sampled; idle 20\.0 %/);
  });
});

describe('shortUrl', () => {
  it('cuts to the package or the workspace path', () => {
    expect(shortUrl('file:///x/node_modules/werift/lib/a.js')).toBe('werift/lib/a.js');
    expect(shortUrl('file:///work/main/core/dist/rtp/m.js')).toBe('core/dist/rtp/m.js');
    expect(shortUrl('node:internal/timers')).toBe('node:internal/timers');
  });
});
