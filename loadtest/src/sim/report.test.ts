import { describe, expect, it } from 'vitest';
import { type CallLine, formatGeoTable, summarizeGeo } from './report.js';

const call = (over: Partial<CallLine>): CallLine => ({
  ok: true,
  setupMs: { firstAudio: 300 },
  rttMs: { p50: 40, p99: 45 },
  remoteCandidate: '10.99.4.2:3478',
  sessionUrl: '/v1/sessions/aaaaaaaaaaaa-AAAAAAAAAAAAAAAAAAAAAA',
  ...over,
});

describe('summarizeGeo', () => {
  const clusterOf = (u: string) => (u.includes('aaaaaaaaaaaa') ? 'core-eu' : 'core-us');

  it('pools echoes across calls and counts failures apart', () => {
    const r = summarizeGeo(
      'london',
      'eu-west-1',
      '10.99.4.2:3478',
      37,
      [
        call({ rtts: [38, 39, 40], setupMs: { firstAudio: 200 } }),
        call({ rtts: [41, 42, 90], setupMs: { firstAudio: 400 } }),
        { ok: false, error: 'ice timeout' },
      ],
      clusterOf,
    );
    expect(r).toMatchObject({
      relay: '10.99.4.2:3478',
      cluster: 'core-eu',
      calls: 3,
      failed: 1,
      predictedRttMs: 37,
    });
    expect(r.rttMs.p50).toBeGreaterThanOrEqual(40);
    expect(r.rttMs.p50).toBeLessThanOrEqual(41);
    expect(r.rttMs.p99).toBeGreaterThan(80);
    expect(r.setupMs.p50).toBe(200); // nearest rank, as the rest of the load tools
  });

  it('shows a mixed relay or cluster, which the table flags', () => {
    const r = summarizeGeo(
      'london',
      'eu-west-1',
      '10.99.4.2:3478',
      37,
      [
        call({}),
        call({
          remoteCandidate: '10.99.3.2:3478',
          sessionUrl: '/v1/sessions/bbbbbbbbbbbb-AAAAAAAAAAAAAAAAAAAAAA',
        }),
      ],
      clusterOf,
    );
    expect(r.relay).toBe('10.99.3.2:3478+10.99.4.2:3478');
    expect(r.cluster).toBe('core-eu+core-us');
    expect(formatGeoTable([r])).toContain('no (want 10.99.4.2:3478)');
  });
});
