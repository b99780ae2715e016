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

/**
 * Receives probes on one UDP port, counts them and records one-way latency
 * (send time from the probe against this process's monotonic clock).
 */
export class UdpSink {
  private socket?: Socket;
  private received = 0;
  private other = 0;
  private readonly latency = new LatencyHistogram();
  private cpu0 = process.cpuUsage();
  private t0 = monoMs();

  async bind(): Promise<{ port: number }> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    socket.on('message', (msg) => {
      const p = readProbe(msg);
      if (!p) {
        this.other++;
        return;
      }
      this.received++;
      this.latency.record(monoMs() - p.sentAtMs);
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    this.socket = socket;
    return { port: socket.address().port };
  }

  reset(): void {
    this.received = 0;
    this.other = 0;
    this.latency.reset();
    this.cpu0 = process.cpuUsage();
    this.t0 = monoMs();
  }

  read(): SinkReading {
    const cpu = process.cpuUsage(this.cpu0);
    const wall = Math.max(1, monoMs() - this.t0);
    return {
      received: this.received,
      other: this.other,
      latencyMs: { ...this.latency.summary(), max: this.latency.max },
      cpuShare: (cpu.user + cpu.system) / 1000 / wall,
    };
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
