import { createSocket, type Socket } from 'node:dgram';
import { loadNativeUdp, type NativeUdpSocket } from '@parley/native/udp';
import { LatencyHistogram } from '../../load/latency-histogram.js';
import { monoMs, PROBE_MAGIC, readProbe } from './udp-probe.js';

export interface SinkReading {
  received: number;
  /** Datagrams that were not probes (a relay forwards the STUN request that opened each flow). */
  other: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  cpuShare: number;
}

/** One path's packets: counts, latency and the sink's CPU while that path was selected. */
interface Tally {
  received: number;
  other: number;
  latency: LatencyHistogram;
  /** CPU (µs) and wall (ms) of earlier selections, plus the running one since cpu0/t0. */
  cpuMicros: number;
  wallMs: number;
  cpu0: NodeJS.CpuUsage;
  t0: number;
}

function newTally(): Tally {
  return {
    received: 0,
    other: 0,
    latency: new LatencyHistogram(),
    cpuMicros: 0,
    wallMs: 0,
    cpu0: process.cpuUsage(),
    t0: monoMs(),
  };
}

/**
 * Receives probes on one UDP port, counts them and records one-way latency
 * (send time from the probe against this process's monotonic clock).
 *
 * Packets go to the selected tally (`select`), so paths that take turns in
 * short slices each keep their own histogram across their slices: the bench
 * selects a path before its slice and reads the pooled figures at the end.
 */
export class UdpSink {
  private socket?: Socket;
  private native?: NativeUdpSocket;
  private readonly tallies = new Map<string, Tally>();
  private current: Tally = newTally();
  private currentLabel = '';

  constructor() {
    this.tallies.set('', this.current);
  }

  /**
   * On native/udp (recvmmsg, one callback per batch, one clock read per
   * batch) where the addon is built, so the sink is not what limits the
   * relay bench's rates; node:dgram otherwise.
   */
  async bind(opts: { nativeIo?: boolean } = {}): Promise<{ port: number; io: 'native' | 'dgram' }> {
    const native = opts.nativeIo === false ? undefined : loadNativeUdp();
    if (native) {
      const sock = new native.NativeUdpSocket({
        address: '127.0.0.1',
        port: 0,
        batch: 256,
        recvBufferBytes: 4 << 20,
      });
      sock.onBatch = (b) => {
        const t = this.current;
        const now = monoMs();
        const { data, meta } = b;
        for (let i = 0, m = 0; i < b.count; i++, m += 4) {
          const off = meta[m] as number;
          if ((meta[m + 1] as number) < 20 || data.readUInt32BE(off) !== PROBE_MAGIC) {
            t.other++;
            continue;
          }
          t.received++;
          t.latency.record(now - data.readDoubleBE(off + 12));
        }
      };
      this.native = sock;
      return { port: sock.port, io: 'native' };
    }
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    socket.on('message', (msg) => {
      const t = this.current;
      const p = readProbe(msg);
      if (!p) {
        t.other++;
        return;
      }
      t.received++;
      t.latency.record(monoMs() - p.sentAtMs);
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    this.socket = socket;
    return { port: socket.address().port, io: 'dgram' };
  }

  /** Later packets count for `label` (its tally is kept until reset); '' is the default tally. */
  select(label: string): void {
    if (label === this.currentLabel) return;
    const was = this.current;
    const cpu = process.cpuUsage(was.cpu0);
    was.cpuMicros += cpu.user + cpu.system;
    was.wallMs += monoMs() - was.t0;
    let next = this.tallies.get(label);
    if (!next) {
      next = newTally();
      this.tallies.set(label, next);
    }
    next.cpu0 = process.cpuUsage();
    next.t0 = monoMs();
    this.current = next;
    this.currentLabel = label;
  }

  /** Empties the selected tally. */
  reset(): void {
    const t = newTally();
    this.tallies.set(this.currentLabel, t);
    this.current = t;
  }

  /** The selected tally, pooled over every selection since its reset. */
  read(): SinkReading {
    const t = this.current;
    const cpu = process.cpuUsage(t.cpu0);
    const cpuMs = (t.cpuMicros + cpu.user + cpu.system) / 1000;
    const wall = Math.max(1, t.wallMs + monoMs() - t.t0);
    return {
      received: t.received,
      other: t.other,
      latencyMs: { ...t.latency.summary(), max: t.latency.max },
      cpuShare: cpuMs / wall,
    };
  }

  async close(): Promise<void> {
    this.native?.close();
    this.native = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
