import { createSocket, type Socket } from 'node:dgram';
import { LatencyHistogram } from '../../load/latency-histogram.js';
import { monoMs, readProbe } from './udp-probe.js';

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
  private readonly tallies = new Map<string, Tally>();
  private current: Tally = newTally();
  private currentLabel = '';

  constructor() {
    this.tallies.set('', this.current);
  }

  async bind(): Promise<{ port: number }> {
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
    return { port: socket.address().port };
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
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
