import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencyHistogram } from '../../load/latency-histogram.js';
import { PROBE_MAGIC } from './udp-probe.js';

/**
 * The relay hop measured on the wire: a loopback capture (tcpdump) sees each
 * probe twice, when the generator's datagram enters loopback toward the relay
 * and when the relay sends it on toward the sink. The difference is the time
 * the packet spent in the relay hop (the kernel's delivery to the relay's
 * socket, its wake-up, its work, its send), per packet and on one clock, with
 * neither the generator's nor the sink's scheduling in it and no difference
 * of two percentiles taken from different windows. The probe's flow and
 * sequence number (udp-probe.ts) match the two sightings.
 */
export interface HopSummary {
  pairs: number;
  p50: number;
  p99: number;
  max: number;
}

/** Per path, the hop times (ms) found in one pcap (nanosecond or microsecond, Ethernet or Linux-cooked link). */
export function hopTimes(
  pcap: Buffer,
  o: { sinkPort: number; targets: ReadonlyMap<number, string> },
): Map<string, LatencyHistogram> {
  const out = new Map<string, LatencyHistogram>();
  if (pcap.length < 24) return out;
  const magic = pcap.readUInt32LE(0);
  const nano = magic === 0xa1b23c4d;
  if (!nano && magic !== 0xa1b2c3d4) throw new Error('not a little-endian pcap file');
  const link = pcap.readUInt32LE(20);
  const l2 = link === 1 ? 14 : link === 113 ? 16 : link === 0 ? 4 : link === 101 ? 0 : -1;
  if (l2 < 0) throw new Error(`pcap link type ${link} is not handled`);
  // Probe key (flow, seq) → when it went toward the relay, and which path's relay.
  const seen = new Map<string, { t: number; path: string }>();
  for (let off = 24; off + 16 <= pcap.length; ) {
    const t = pcap.readUInt32LE(off) + pcap.readUInt32LE(off + 4) * (nano ? 1e-9 : 1e-6);
    const caplen = pcap.readUInt32LE(off + 8);
    const p = off + 16;
    off = p + caplen;
    if (off > pcap.length) break;
    const ip = p + l2;
    if (caplen < l2 + 28 || (pcap[ip] as number) >> 4 !== 4 || pcap[ip + 9] !== 17) continue;
    const udp = ip + ((pcap[ip] as number) & 15) * 4;
    const dport = pcap.readUInt16BE(udp + 2);
    const payload = udp + 8;
    const end = p + caplen;
    // A Parley relay gets the probe as is; coturn gets it after a 4-byte ChannelData header.
    let at = -1;
    for (const skip of [0, 4]) {
      if (payload + skip + 12 <= end && pcap.readUInt32BE(payload + skip) === PROBE_MAGIC) {
        at = payload + skip;
        break;
      }
    }
    if (at < 0) continue;
    const key = `${pcap.readUInt32BE(at + 4)}:${pcap.readUInt32BE(at + 8)}`;
    const path = o.targets.get(dport);
    if (path !== undefined) {
      seen.set(key, { t, path });
    } else if (dport === o.sinkPort) {
      const from = seen.get(key);
      if (from === undefined) continue; // the direct path, or a probe whose first sighting was not captured
      seen.delete(key);
      const ms = (t - from.t) * 1000;
      // Generators share flow/seq numbers: a stale first sighting (a lost packet) must not pair with another path's.
      if (ms < 0 || ms > 1_000) continue;
      let h = out.get(from.path);
      if (!h) {
        h = new LatencyHistogram();
        out.set(from.path, h);
      }
      h.record(ms);
    }
  }
  return out;
}

export function summarizeHops(h: LatencyHistogram): HopSummary {
  const s = h.summary();
  return { pairs: h.count, p50: s.p50, p99: s.p99, max: h.max };
}

let tcpdumpPath: string | null | undefined;

function tcpdump(): string | null {
  if (tcpdumpPath === undefined) {
    try {
      execFileSync('tcpdump', ['--version'], { stdio: 'ignore', timeout: 5_000 });
      tcpdumpPath = 'tcpdump';
    } catch {
      tcpdumpPath = null;
    }
  }
  return tcpdumpPath;
}

export interface RunningCapture {
  /** Stops tcpdump and reads its file: per path, the hop summary. */
  stop(): Promise<Map<string, HopSummary>>;
}

/**
 * Starts tcpdump on loopback for the probes toward the relays (`targets`:
 * port → path) and toward the sink, pinned to `cpu` (a load core) when given.
 * Undefined, with the reason, when tcpdump is missing or may not capture
 * (it needs CAP_NET_RAW).
 */
export async function startHopCapture(o: {
  sinkPort: number;
  targets: ReadonlyMap<number, string>;
  cpu?: number;
}): Promise<RunningCapture | { skipped: string }> {
  const bin = tcpdump();
  if (bin === null) return { skipped: 'tcpdump is not installed' };
  const dir = mkdtempSync(join(tmpdir(), 'parley-hop-'));
  const file = join(dir, 'hop.pcap');
  const filter = `udp and (${[o.sinkPort, ...o.targets.keys()].map((p) => `dst port ${p}`).join(' or ')})`;
  // Headers and the probe's first 20 bytes are all that is read; a large kernel buffer so nothing drops.
  const args = [
    '-i',
    'lo',
    '-n',
    '-s',
    '96',
    '-B',
    '32768',
    '--time-stamp-precision',
    'nano',
    '-w',
    file,
    filter,
  ];
  const child: ChildProcess =
    o.cpu !== undefined
      ? spawn('taskset', ['-c', String(o.cpu), bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((r) => {
    child.once('exit', (code) => r(code));
    child.once('error', () => r(-1));
  });
  // tcpdump says "listening on lo" once the capture is live.
  const listening = new Promise<boolean>((resolve) => {
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve(true);
    });
    void exited.then(() => resolve(false));
    setTimeout(() => resolve(false), 5_000).unref();
  });
  if (!(await listening)) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    return { skipped: `tcpdump could not capture on lo: ${stderr.trim().split('\n').pop() ?? 'no output'}` };
  }
  return {
    stop: async () => {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
      try {
        const hops = hopTimes(readFileSync(file), o);
        return new Map([...hops].map(([path, h]) => [path, summarizeHops(h)]));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
