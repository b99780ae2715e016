import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readQuality, type StatsEntry } from './call-stats.js';

const chromium = JSON.parse(
  readFileSync(new URL('./__fixtures__/chromium-stats.json', import.meta.url), 'utf8'),
).entries as StatsEntry[];

describe('readQuality', () => {
  it("reads a real Chromium report: the transport's selected pair, its remote candidate (the relay), inbound audio", () => {
    expect(readQuality(chromium)).toEqual({
      rttMs: 2,
      jitterMs: 1,
      packetsReceived: 181,
      packetsLost: 0,
      remoteCandidate: '127.0.0.1:13478',
      pairState: 'succeeded',
    });
  });

  it('Firefox style: no selectedCandidatePairId, the pair marked selected wins over other nominated pairs', () => {
    const entries: StatsEntry[] = [
      { id: 'p1', type: 'candidate-pair', nominated: true, state: 'succeeded', remoteCandidateId: 'r1' },
      { id: 'p2', type: 'candidate-pair', selected: true, state: 'succeeded', remoteCandidateId: 'r2' },
      { id: 'r1', type: 'remote-candidate', address: '10.0.0.1', port: 1 },
      { id: 'r2', type: 'remote-candidate', address: '2001:db8::7', port: 3478 },
    ];
    expect(readQuality(entries).remoteCandidate).toBe('[2001:db8::7]:3478');
  });

  it('before anything connects: an empty sample, not a throw', () => {
    expect(readQuality([{ id: 'T', type: 'transport' }])).toEqual({});
    expect(
      readQuality([
        { id: 'p', type: 'candidate-pair', state: 'in-progress', nominated: false, remoteCandidateId: 'r' },
      ]),
    ).toEqual({});
  });

  it("silence: ms from the agent's last audio packet to the reading, on the stats clock; absent before the first", () => {
    const inbound = (last: number) => [
      {
        id: 'i',
        type: 'inbound-rtp',
        kind: 'audio',
        timestamp: 1_700_000_002_500,
        lastPacketReceivedTimestamp: last,
      },
    ];
    expect(readQuality(inbound(1_700_000_001_250)).silentMs).toBe(1_250);
    expect(readQuality(inbound(0)).silentMs).toBeUndefined();
  });

  it('ignores video and non-numeric fields', () => {
    const q = readQuality([
      { id: 'v', type: 'inbound-rtp', kind: 'video', packetsReceived: 9, jitter: 0.5 },
      { id: 'a', type: 'inbound-rtp', kind: 'audio', packetsReceived: 'lots', packetsLost: 2 },
    ]);
    expect(q).toEqual({ packetsLost: 2 });
  });
});
