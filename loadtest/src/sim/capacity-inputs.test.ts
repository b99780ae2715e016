import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CapacityInputError, readCapacityInputs } from './capacity-inputs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function resultsDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-capacity-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(body));
  return dir;
}

const meta = (startedAt: string) => ({ mode: 'full', startedAt, git: { commit: 'abcdef1234567' } });
const relayRun = (us: number) => ({
  relay: {
    paths: [
      { path: 'direct' },
      { path: 'parley', cpuUsPerPacket: us },
      { path: 'coturn', cpuUsPerPacket: 8 },
    ],
  },
});
const transceiverRun = {
  transceiver: {
    agent: 'rtp-echo',
    maxSessions: 100,
    packetRate: 50,
    payloadBytes: 120,
    steps: [
      { sessions: 50, pass: true, cpuPercentPerSession: 0.5 },
      { sessions: 100, pass: true, cpuPercentPerSession: 0.4 },
    ],
  },
};
const setupRun = { setup: { sequential: { transceiverCpuMsPerCall: 20 } } };
const signalingRun = (rate: number) => ({
  signaling: { edgePinned: true, maxCreatesPerSecond: rate, limitedBy: 'edge' },
});
const signalingLevels = {
  signaling: {
    edgePinned: true,
    maxCreatesPerSecond: 2100,
    limitedBy: 'edge',
    levels: [
      { concurrency: 1, createsPerSecond: 900, edgeCpuUsPerCreate: 780 },
      { concurrency: 64, createsPerSecond: 2100, edgeCpuUsPerCreate: 460 },
    ],
  },
};

describe('readCapacityInputs', () => {
  it('takes each figure from the newest result that has it, and names file, field, run and commit', () => {
    const dir = resultsDir({
      'bench-2026-12-01T01-00-00Z.json': { ...meta('2026-12-01T01:00:00Z'), ...relayRun(20), ...setupRun },
      'bench-2026-12-01T02-00-00Z-quick.json': {
        ...meta('2026-12-01T02:00:00Z'),
        mode: 'quick',
        ...relayRun(12.5),
        ...signalingRun(2000),
      },
      'bench-2026-12-01T03-00-00Z.json': { ...meta('2026-12-01T03:00:00Z'), ...transceiverRun },
      'latest.json': { ...relayRun(99) },
    });
    const i = readCapacityInputs(dir);
    expect(i.relayCpuUsPerPacket.value).toBe(12.5);
    expect(i.relayCpuUsPerPacket.source).toBe(
      'results/bench-2026-12-01T02-00-00Z-quick.json relay.paths[1] (parley).cpuUsPerPacket (quick run 2026-12-01T02:00:00Z, commit abcdef1)',
    );
    expect(i.edgeCpuUsPerCreation.value).toBe(500);
    expect(i.edgeCpuUsPerCreation.source).toContain('1e6 / signaling.maxCreatesPerSecond (2000/s');
    expect(i.transceiverCoreShareTransport.value).toBeCloseTo(0.004, 9);
    expect(i.transceiverCoreShareTransport.source).toContain('transceiver.steps[sessions=100]');
    expect(i.sessionsPerTransceiver.value).toBe(100);
    expect(i.transceiverSetupCpuMs).toMatchObject({ value: 20 });
    expect(i.transceiverSetupCpuMs.source).toContain('bench-2026-12-01T01-00-00Z.json');
    expect(i.packetRate.value).toBe(50);
    expect(i.transceiverCoreShareVoice).toBeUndefined();
  });

  it("takes the edge's measured CPU per creation at its best level when the result has it", () => {
    const dir = resultsDir({
      'bench-2026-12-01T01-00-00Z.json': {
        ...meta('t'),
        git: { commit: '0123456789', dirty: true },
        ...relayRun(5),
        ...transceiverRun,
        ...setupRun,
        ...signalingLevels,
      },
    });
    const e = readCapacityInputs(dir).edgeCpuUsPerCreation;
    expect(e.value).toBe(460);
    expect(e.source).toContain('signaling.levels[1].edgeCpuUsPerCreate (concurrency 64, 2100 creations/s');
    expect(e.source).toContain('commit 0123456+uncommitted');
  });

  it('fails naming each missing figure and the bench that measures it', () => {
    const dir = resultsDir({
      'bench-2026-12-01T01-00-00Z.json': { ...meta('x'), ...transceiverRun, ...setupRun },
    });
    let err: unknown;
    try {
      readCapacityInputs(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CapacityInputError);
    expect((err as CapacityInputError).missing).toEqual(['relayCpuUsPerPacket', 'edgeCpuUsPerCreation']);
    expect((err as Error).message).toContain('npm run bench -- --only relay');
    expect((err as Error).message).toContain('npm run bench -- --only signaling');
  });

  it('says to run the bench when there is no results folder at all', () => {
    expect(() => readCapacityInputs(join(tmpdir(), 'parley-no-such-results-dir'))).toThrow(
      /no bench results at .*run npm run bench first/,
    );
  });
});
