/**
 * Capacity for N concurrent sessions over the topology's regions, from
 * measured per-unit costs. Pure: every input carries where it was measured,
 * and the output says which input each figure rests on.
 */
export interface Measured {
  value: number;
  /** File and field (or document and run) the figure comes from. */
  source: string;
}

export interface CapacityInputs {
  /** Relay CPU per forwarded packet, µs. */
  relayCpuUsPerPacket: Measured;
  /** Transceiver CPU per session, fraction of a core (transport only: rtp-echo). */
  transceiverCoreShareTransport: Measured;
  /** Same with the Opus voice pipeline (echo agent), when measured. */
  transceiverCoreShareVoice?: Measured;
  /** Sessions one transceiver process held within the bench's bar (RTT p99 ≤ 20 ms, no loss). */
  sessionsPerTransceiver: Measured;
  /** Transceiver CPU per call setup, ms. */
  transceiverSetupCpuMs: Measured;
  /** Edge CPU per session creation, µs. */
  edgeCpuUsPerCreation: Measured;
  packetRate: Measured;
  payloadBytes: Measured;
}

export interface CapacityAssumptions {
  sessions: number;
  /** Mean session length: sets creations per second. */
  sessionSeconds: number;
  /** Plan every fleet to this share of its cores. */
  utilization: number;
  /** Share of sessions per edge region (sums to 1). */
  edgeShare: Record<string, number>;
  /** Edge region → the core region its sessions land in (nearest). */
  edgeCore: Record<string, string>;
  cores: string[];
  /** Announcements per transceiver per second (1 periodic + load changes, coalesced to ≤ 20/s). */
  announcementsPerTransceiverPerSecond: number;
}

export interface RegionRow {
  region: string;
  role: 'edge' | 'core';
  sessions: number;
  relayCores?: number;
  edgeCores?: number;
  transceiverCoresTransport?: number;
  transceiverCoresVoice?: number;
  transceivers?: number;
}

export interface CapacityModel {
  rows: RegionRow[];
  creationsPerSecond: number;
  relayCores: number;
  edgeCores: number;
  transceiverCoresTransport: number;
  transceiverCoresVoice?: number;
  transceivers: number;
  nats: {
    announcementsPerSecond: number;
    announcementsAcrossGatewaysPerSecond: number;
    requestsPerSecond: number;
  };
  /** Media between edge regions (relays) and core regions (transceivers), both directions, Gbit/s. */
  crossRegionGbps: number;
  wireBytesPerPacket: number;
}

// IPv4 20 + UDP 8 + RTP 12 + SRTP auth tag 10 (AES_CM_128_HMAC_SHA1_80; GCM's is 16).
const PACKET_OVERHEAD_BYTES = 50;

export function capacityModel(i: CapacityInputs, a: CapacityAssumptions): CapacityModel {
  const u = a.utilization;
  const creations = a.sessions / a.sessionSeconds;
  // Each session's packets cross the relay both ways.
  const relayPacketsPerSession = 2 * i.packetRate.value;
  const setupCoreShare = (creations * i.transceiverSetupCpuMs.value) / 1000;
  const rows: RegionRow[] = [];
  const coreSessions = new Map<string, number>(a.cores.map((c) => [c, 0]));
  for (const [edge, share] of Object.entries(a.edgeShare)) {
    const sessions = a.sessions * share;
    const core = a.edgeCore[edge] as string;
    coreSessions.set(core, (coreSessions.get(core) ?? 0) + sessions);
    rows.push({
      region: edge,
      role: 'edge',
      sessions,
      relayCores: Math.ceil((sessions * relayPacketsPerSession * i.relayCpuUsPerPacket.value) / 1e6 / u),
      edgeCores: Math.ceil(((creations * share * i.edgeCpuUsPerCreation.value) / 1e6 / u) * 100) / 100,
    });
  }
  for (const [core, sessions] of coreSessions) {
    const setup = (setupCoreShare * sessions) / a.sessions;
    rows.push({
      region: core,
      role: 'core',
      sessions,
      transceiverCoresTransport: Math.ceil((sessions * i.transceiverCoreShareTransport.value + setup) / u),
      ...(i.transceiverCoreShareVoice && {
        transceiverCoresVoice: Math.ceil((sessions * i.transceiverCoreShareVoice.value + setup) / u),
      }),
      transceivers: Math.ceil(sessions / i.sessionsPerTransceiver.value),
    });
  }
  const sum = (f: (r: RegionRow) => number | undefined) => rows.reduce((s, r) => s + (f(r) ?? 0), 0);
  const transceivers = sum((r) => r.transceivers);
  const announcements = transceivers * a.announcementsPerTransceiverPerSecond;
  const wire = i.payloadBytes.value + PACKET_OVERHEAD_BYTES;
  return {
    rows,
    creationsPerSecond: creations,
    relayCores: sum((r) => r.relayCores),
    edgeCores: Math.ceil(sum((r) => r.edgeCores) * 100) / 100,
    transceiverCoresTransport: sum((r) => r.transceiverCoresTransport),
    ...(i.transceiverCoreShareVoice && { transceiverCoresVoice: sum((r) => r.transceiverCoresVoice) }),
    transceivers,
    nats: {
      announcementsPerSecond: announcements,
      // Every announcement reaches every other core cluster (edges everywhere subscribe).
      announcementsAcrossGatewaysPerSecond: announcements * Math.max(0, a.cores.length - 1),
      // Offer and close per session; placement keeps them in the home cluster unless it is full or gone.
      requestsPerSecond: 2 * creations,
    },
    crossRegionGbps: (a.sessions * relayPacketsPerSession * wire * 8) / 1e9,
    wireBytesPerPacket: wire,
  };
}

function fmt(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  // Small unit costs (a fraction of a core per session) keep three significant digits.
  if (Math.abs(n) < 1) return n.toPrecision(3);
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function capacityMarkdown(
  i: CapacityInputs,
  a: CapacityAssumptions,
  m: CapacityModel,
  generatedBy: string,
): string {
  const inputRows = (Object.entries(i) as [string, Measured | undefined][])
    .filter((e): e is [string, Measured] => e[1] !== undefined)
    .map(([k, v]) => `| ${k} | ${fmt(v.value)} | ${v.source} |`);
  return [
    '# Capacity model: 1M concurrent sessions',
    '',
    `Generated by \`${generatedBy}\` from the bench results in \`results/\`. Every`,
    'per-unit cost below is a measured figure, with the file and field it comes from;',
    'the assumptions are stated. Regenerate after a new `npm run bench`.',
    '',
    '## Inputs (measured)',
    '',
    '| input | value | source |',
    '| --- | --- | --- |',
    ...inputRows,
    '',
    '## Assumptions',
    '',
    `- ${fmt(a.sessions)} concurrent sessions, mean length ${a.sessionSeconds} s → ${fmt(m.creationsPerSecond)} creations/s.`,
    `- Fleets planned to ${Math.round(a.utilization * 100)} % of their cores.`,
    `- Sessions per edge region: ${Object.entries(a.edgeShare)
      .map(([e, s]) => `${e} ${Math.round(s * 100)} %`)
      .join(', ')}; each lands in its nearest core (${Object.entries(a.edgeCore)
      .map(([e, c]) => `${e} → ${c}`)
      .join(', ')}).`,
    `- ${a.announcementsPerTransceiverPerSecond} announcement per transceiver per second.`,
    `- ${m.wireBytesPerPacket} bytes per packet on the wire (payload + IPv4/UDP/RTP/SRTP tag).`,
    '',
    '## Per region',
    '',
    '| region | role | sessions | relay cores | edge cores | transceiver cores (transport) | transceiver cores (Opus voice) | transceivers |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...m.rows.map(
      (r) =>
        `| ${r.region} | ${r.role} | ${fmt(Math.round(r.sessions))} | ${r.relayCores ?? ''} | ${r.edgeCores ?? ''} | ${r.transceiverCoresTransport ?? ''} | ${r.transceiverCoresVoice ?? ''} | ${r.transceivers ?? ''} |`,
    ),
    '',
    '## Totals',
    '',
    `- Relay cores: ${fmt(m.relayCores)} (${2 * i.packetRate.value} packets/s per session × relayCpuUsPerPacket).`,
    `- Edge (signaling) cores: ${fmt(m.edgeCores)}.`,
    `- Transceiver cores: ${fmt(m.transceiverCoresTransport)} for transport${m.transceiverCoresVoice ? `, ${fmt(m.transceiverCoresVoice)} with the Opus voice pipeline` : ''}; ${fmt(m.transceivers)} transceiver processes at sessionsPerTransceiver.`,
    `- NATS: ${fmt(m.nats.announcementsPerSecond)} announcements/s, ${fmt(m.nats.announcementsAcrossGatewaysPerSecond)} of them crossing gateways; ${fmt(m.nats.requestsPerSecond)} requests/s (offer + close), in the home cluster unless it is full or gone.`,
    `- Cross-region media (relays ⇄ transceivers, both ways): ${fmt(m.crossRegionGbps)} Gbit/s.`,
    '',
  ].join('\n');
}
