import { execFileSync } from 'node:child_process';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import { recordProbeArrivals, sendProbes } from './probe-stream.js';

/**
 * A call through a relay that is killed or replaced mid-call, and the media
 * gap it leaves, measured from the echo arrival times. Shared by the relay
 * restart test (cli/test/relay-restart.test.ts) and the relay restart bench.
 */

/** The pids holding a UDP port (relay processes; with SO_REUSEPORT possibly more than one). */
export function udpPortOwners(port: number): number[] {
  const out = execFileSync('ss', ['-Hulpn', `sport = :${port}`], { encoding: 'utf8' });
  return [...new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class RelayKillError extends Error {
  constructor(readonly pid: number) {
    super(`relay ${pid} still alive after SIGKILL`);
    this.name = 'RelayKillError';
  }
}

/** SIGKILL, then wait (at most 5 s) until the process is gone. */
export async function killAndWait(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (alive(pid)) throw new RelayKillError(pid);
}

export class GapCallError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GapCallError';
  }
}

export interface GapCallResult {
  /** performance.now() when the disruption was over (what `disrupt` resolved with). */
  resumedAt: number;
  /** First arrival of each echoed probe (performance.now()), by probe number. */
  arrivals: Map<number, number>;
  /** Send time of each probe. */
  sentAt: number[];
  total: number;
}

export interface GapCallOptions {
  edgeUrl: string;
  token: string;
  /** Probes (20 ms apart) in the whole call; default 250 (5 s). */
  total?: number;
  /** When `disrupt` runs, ms after the first probe; default 1500. */
  disruptAfterMs?: number;
}

/**
 * One werift call through the stack (`rtp-echo`), numbered probes every 20 ms;
 * after `disruptAfterMs` the `disrupt` callback runs and resolves (with
 * performance.now()) when the relay side is ready again. The session is
 * deleted at the end, also on failure.
 */
export async function callAcross(o: GapCallOptions, disrupt: () => Promise<number>): Promise<GapCallResult> {
  const pc = new RTCPeerConnection({ codecs: opusOnlyCodecs(), iceServers: [] });
  const auth = { authorization: `Bearer ${o.token}` };
  let sessionUrl = '';
  try {
    const out = new MediaStreamTrack({ kind: 'audio' });
    const t = pc.addTransceiver(out, { direction: 'sendrecv' });
    const arrivals = recordProbeArrivals(t);
    const connected = new Promise<void>((r) =>
      pc.connectionStateChange.subscribe((s) => s === 'connected' && r()),
    );
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(new URL('/v1/sessions?agent=rtp-echo', o.edgeUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...auth },
      body: pc.localDescription?.sdp,
    });
    if (res.status !== 201) throw new GapCallError(`edge answered ${res.status}: ${await res.text()}`);
    sessionUrl = new URL(res.headers.get('location') as string, o.edgeUrl).toString();
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      connected,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new GapCallError('call did not connect within 10 s')), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));

    const total = o.total ?? 250;
    const sending = sendProbes(out, total);
    await new Promise((r) => setTimeout(r, o.disruptAfterMs ?? 1_500));
    const resumedAt = await disrupt();
    const sentAt = await sending;
    // The last echoes' way back.
    await new Promise((r) => setTimeout(r, 300));
    const del = await fetch(sessionUrl, { method: 'DELETE', headers: auth });
    if (del.status !== 200) throw new GapCallError(`DELETE answered ${del.status}: the session was lost`);
    sessionUrl = '';
    return { resumedAt, arrivals, sentAt, total };
  } finally {
    if (sessionUrl) await fetch(sessionUrl, { method: 'DELETE', headers: auth }).catch(() => undefined);
    await pc.close().catch(() => undefined);
  }
}

export interface GapMeasure {
  /** Longest silence between two echo arrivals, ms. */
  gap: number;
  /** From `from` to the first echo after it, ms. */
  recovery: number;
  /** Probes sent after that first echo that never came back. */
  lostAfter: number;
  /** Probes that never came back at all. */
  lost: number;
}

/** The gap figures of a call, relative to `from` (usually the call's `resumedAt`). */
export function measureGap(r: GapCallResult, from: number): GapMeasure {
  const times = [...r.arrivals.values()].sort((a, b) => a - b);
  let gap = 0;
  for (let k = 1; k < times.length; k++) gap = Math.max(gap, (times[k] as number) - (times[k - 1] as number));
  const recovery = Math.min(...times.filter((at) => at > from)) - from;
  const lostAfter = [...r.sentAt.keys()].filter(
    (i) => (r.sentAt[i] as number) > from + recovery && !r.arrivals.has(i),
  ).length;
  return { gap, recovery, lostAfter, lost: r.total - r.arrivals.size };
}
