import { mintDevToken } from '@parley/edge/signaling/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPrerequisites, listOurNamespaces } from './netns.js';
import type { GeoReport } from './report.js';
import { drillKillCore, drillRelayRestart, runGeoCalls } from './scenarios.js';
import { type SimStack, startSim } from './sim-stack.js';
import { buildTopology, readTopologyFile } from './topology.js';

/**
 * The reduced multi-region topology (2 edge regions, 2 core regions, 2
 * client geos) from the same file Terraform reads, for real: namespaces,
 * the delay element, the NATS super-cluster, every Parley process. Needs
 * root; without network namespaces it fails with the reason, it never skips.
 *
 * Margin for echo RTT: the matrix's path RTT is a floor (the delay element
 * adds it exactly); on top come the relay, the transceiver, werift, the
 * delay element's timer (≤ 1 ms per hop, 4 hops) and a shared 2-core
 * machine. p50 must be within 25 % + 15 ms of the prediction.
 */
describe('parley sim, reduced topology (real namespaces, delays, NATS gateways and leaf nodes)', () => {
  const topo = buildTopology(readTopologyFile(), {
    edges: ['us-east-1', 'eu-west-1'],
    cores: ['us-east-2', 'eu-central-1'],
    geos: ['new-york', 'london'],
  });
  let sim: SimStack | undefined;
  let stopSim: (() => Promise<void>) | undefined;
  let token: string;
  let rows: GeoReport[];

  beforeAll(async () => {
    await checkPrerequisites();
    sim = await startSim({
      topo,
      onStop: (stop) => {
        stopSim = stop;
      },
    });
    token = await mintDevToken(sim.jwtSecret, { subject: 'sim-test', ttlSeconds: 600 });
    rows = await runGeoCalls(sim, token, { calls: 2, seconds: 2 });
  }, 150_000);

  afterAll(async () => {
    // stopSim exists from the first moment, so a startup that timed out is removed too.
    const prefix = sim?.prefix;
    await stopSim?.();
    if (prefix) expect((await listOurNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([]);
  }, 30_000);

  it('sends every call through its geo’s nearest relay, and places it in the nearest core cluster', () => {
    const byGeo = Object.fromEntries(rows.map((r) => [r.geo, r]));
    expect(byGeo['new-york']).toMatchObject({
      edge: 'us-east-1',
      cluster: 'core-us-east-2',
      failed: 0,
      calls: 2,
    });
    expect(byGeo.london).toMatchObject({
      edge: 'eu-west-1',
      cluster: 'core-eu-central-1',
      failed: 0,
      calls: 2,
    });
    for (const r of rows) expect(r.relay, r.geo).toBe(r.expectedRelay);
  });

  it('measures echo RTT above the simulated path delay and within 25 % + 15 ms of it', () => {
    for (const r of rows) {
      expect(r.rttMs.p50, r.geo).toBeGreaterThanOrEqual(r.predictedRttMs);
      expect(r.rttMs.p50, r.geo).toBeLessThanOrEqual(r.predictedRttMs * 1.25 + 15);
    }
  });

  it('keeps a call through a relay SIGKILLed and restarted, its flow recovered from the region’s JetStream', async () => {
    // Before the edge leaves ran JetStream here, the flow came back only with the client's next consent
    // check (a 2.0 s gap, 101 packets lost); from the flow cache it is the new process's start-up (~0.26 s).
    const f = await drillRelayRestart(sim as SimStack, token, { geo: 'london' });
    expect(f).toMatchObject({ edge: 'eu-west-1', callOk: true });
    expect(f.maxGapMs).toBeLessThan(1_500);
  }, 30_000);

  it('moves new sessions to the next cluster within 5 s of a whole core region dying', async () => {
    const f = await drillKillCore(sim as SimStack, token, { geo: 'london', afterMs: 6_500 });
    expect(f).toMatchObject({ killed: 'eu-central-1', before: 'core-eu-central-1', after: 'core-us-east-2' });
    expect(f.failoverMs).toBeLessThanOrEqual(5_000);
    // Once moved, every new session lands there.
    expect(f.afterShare).toBe(1);
    // Calls with media in the dead region hear it from their edge: announcements stop, discovery
    // forgets the transceivers 3.5 s later, the edge checks every 250 ms; 6 s leaves room for a loaded machine.
    expect(f.established.calls).toBe(2);
    expect(f.established).toMatchObject({ ended: 2, reasons: ['transceiver_lost'] });
    expect(f.established.endedMs?.max).toBeLessThanOrEqual(6_000);
  }, 45_000);
});
