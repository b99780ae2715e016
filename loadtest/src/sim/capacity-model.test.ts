import { describe, expect, it } from 'vitest';
import { type CapacityInputs, capacityMarkdown, capacityModel } from './capacity-model.js';

const m = (value: number) => ({ value, source: 'test' });
const inputs: CapacityInputs = {
  relayCpuUsPerPacket: m(10),
  transceiverCoreShareTransport: m(0.005),
  transceiverCoreShareVoice: m(0.02),
  sessionsPerTransceiver: m(100),
  transceiverSetupCpuMs: m(20),
  edgeCpuUsPerCreation: m(500),
  packetRate: m(50),
  payloadBytes: m(120),
};

describe('capacityModel', () => {
  const a = {
    sessions: 1_000_000,
    sessionSeconds: 250,
    utilization: 0.5,
    edgeShare: { e1: 0.5, e2: 0.5 },
    edgeCore: { e1: 'c1', e2: 'c2' },
    cores: ['c1', 'c2'],
    announcementsPerTransceiverPerSecond: 1,
  };

  it('derives each fleet from its measured unit cost', () => {
    const r = capacityModel(inputs, a);
    // 1M × 100 packets/s × 10 µs = 1000 cores busy, at 50 % → 2000.
    expect(r.relayCores).toBe(2000);
    // 4000 creations/s × 500 µs = 2 cores, at 50 % → 4.
    expect(r.creationsPerSecond).toBe(4000);
    expect(r.edgeCores).toBe(4);
    // 1M × 0.005 + 4000/s × 20 ms = 5000 + 80 cores, at 50 % → 10160.
    expect(r.transceiverCoresTransport).toBe(10_160);
    expect(r.transceiverCoresVoice).toBe(40_160);
    expect(r.transceivers).toBe(10_000);
    expect(r.nats).toEqual({
      announcementsPerSecond: 10_000,
      announcementsAcrossGatewaysPerSecond: 10_000,
      requestsPerSecond: 8000,
    });
    // 1M × 100 packets/s × 170 B × 8 = 136 Gbit/s.
    expect(r.crossRegionGbps).toBeCloseTo(136, 6);
    expect(r.rows.find((x) => x.region === 'c2')?.sessions).toBe(500_000);
  });

  it('writes every input with its source into the document', () => {
    const doc = capacityMarkdown(inputs, a, capacityModel(inputs, a), 'parley sim --capacity');
    expect(doc).toContain('| relayCpuUsPerPacket | 10 | test |');
    expect(doc).toContain('Relay cores: 2,000');
  });
});
