/** One reading of the call's quality, from RTCPeerConnection.getStats(). */
export interface QualitySample {
  /** Round trip on the selected candidate pair (ICE checks through the relay), ms. */
  rttMs?: number;
  /** Interarrival jitter of the agent's audio, ms. */
  jitterMs?: number;
  packetsReceived?: number;
  packetsLost?: number;
  /** ms from the agent's last audio packet to this reading (`lastPacketReceivedTimestamp`); absent before the first. */
  silentMs?: number;
  /** `ip:port` of the selected pair's remote candidate: must be the relay. */
  remoteCandidate?: string;
  /** State of the selected pair (`succeeded` once connected). */
  pairState?: string;
}

/** The fields this module reads; the browser's stats dictionaries have many more. */
export interface StatsEntry {
  id: string;
  type: string;
  [field: string]: unknown;
}

/**
 * Picks the selected candidate pair and the inbound audio stream out of a
 * stats report (pass `[...report.values()]`). Pure, so it is tested with a
 * real report Chromium produced.
 */
export function readQuality(entries: Iterable<StatsEntry>): QualitySample {
  const byId = new Map<string, StatsEntry>();
  for (const e of entries) byId.set(e.id, e);
  const all = [...byId.values()];

  const pair = selectedPair(all, byId);
  const sample: QualitySample = {};
  if (pair) {
    const rtt = num(pair.currentRoundTripTime);
    if (rtt !== undefined) sample.rttMs = rtt * 1000;
    if (typeof pair.state === 'string') sample.pairState = pair.state;
    const remote = byId.get(String(pair.remoteCandidateId));
    if (remote) {
      const address = remote.address ?? remote.ip;
      const port = num(remote.port);
      if (typeof address === 'string' && port !== undefined) sample.remoteCandidate = hostPort(address, port);
    }
  }

  const inbound = all.find((e) => e.type === 'inbound-rtp' && (e.kind ?? e.mediaType) === 'audio');
  if (inbound) {
    const jitter = num(inbound.jitter);
    if (jitter !== undefined) sample.jitterMs = jitter * 1000;
    const received = num(inbound.packetsReceived);
    if (received !== undefined) sample.packetsReceived = received;
    const lost = num(inbound.packetsLost);
    if (lost !== undefined) sample.packetsLost = lost;
    // Both on the stats clock (spec: same time base as RTCStats.timestamp).
    const last = num(inbound.lastPacketReceivedTimestamp);
    const at = num(inbound.timestamp);
    if (last !== undefined && last > 0 && at !== undefined) sample.silentMs = Math.max(0, at - last);
  }
  return sample;
}

/**
 * The transport names its selected pair (Chromium, Safari); Firefox marks
 * the pair `selected` instead; otherwise the nominated, succeeded one.
 */
function selectedPair(all: StatsEntry[], byId: Map<string, StatsEntry>): StatsEntry | undefined {
  for (const t of all) {
    if (t.type === 'transport' && typeof t.selectedCandidatePairId === 'string') {
      const p = byId.get(t.selectedCandidatePairId);
      if (p) return p;
    }
  }
  const pairs = all.filter((e) => e.type === 'candidate-pair');
  return (
    pairs.find((p) => p.selected === true) ??
    pairs.find((p) => p.nominated === true && p.state === 'succeeded')
  );
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
