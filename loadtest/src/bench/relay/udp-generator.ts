import { createSocket, type Socket } from 'node:dgram';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { openTurnChannel } from '../turn/turn-client.js';
import { type Address, CHANNEL_MIN } from '../turn/turn-codec.js';
import { monoMs, PROBE_BYTES, writeProbe } from './udp-probe.js';

/** How flows reach the sink: straight, through a Parley relay (a token opens each flow), or TURN ChannelData. */
export type FlowMode =
  | { kind: 'direct' }
  | { kind: 'parley'; usernames: string[] }
  | { kind: 'turn'; username: string; password: string; peer: Address };

export interface OpenArgs {
  target: Address;
  flows: number;
  mode: FlowMode;
}

export interface RunArgs {
  /** Packets per second over all flows. */
  rate: number;
  durationMs: number;
}

export interface RunResult {
  sent: number;
  elapsedMs: number;
  achievedRate: number;
  /** This process's CPU over the run, as a share of one core. */
  cpuShare: number;
  sendErrors: number;
}

interface Flow {
  socket: Socket;
  /** ChannelData header bytes before the probe (0 or 4). */
  header: number;
  channel: number;
  seq: number;
}

/**
 * Sends 200-byte probes round-robin over many UDP flows (one connected
 * socket each) at a steady rate, in bursts paced by the monotonic clock.
 * Bounded: a run stops after twice its duration even if it fell behind.
 */
export class UdpGenerator {
  private flows: Flow[] = [];
  private sendErrors = 0;

  async open(args: OpenArgs): Promise<{ flows: number }> {
    await this.close();
    const { mode } = args;
    if (mode.kind === 'parley' && mode.usernames.length < args.flows)
      throw new Error('parley mode needs one STUN username per flow');
    for (let i = 0; i < args.flows; i++) {
      const socket = createSocket({ type: 'udp4', sendBufferSize: 1 << 20 });
      socket.on('error', () => {
        this.sendErrors++;
      });
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => socket.connect(args.target.port, args.target.ip, () => r()));
      this.flows.push({ socket, header: mode.kind === 'turn' ? 4 : 0, channel: CHANNEL_MIN, seq: 0 });
    }
    if (mode.kind === 'parley') {
      // The relay opens a flow for a Binding Request whose USERNAME carries a valid routing token.
      this.flows.forEach((f, i) => {
        f.socket.send(buildBindingRequest({ username: mode.usernames[i] as string }));
      });
    } else if (mode.kind === 'turn') {
      await inBatches(this.flows, 32, async (f) => {
        await openTurnChannel(f.socket, {
          username: mode.username,
          password: mode.password,
          peer: mode.peer,
          channel: f.channel,
        });
      });
    }
    return { flows: this.flows.length };
  }

  async run(args: RunArgs): Promise<RunResult> {
    const flows = this.flows;
    if (flows.length === 0) throw new Error('no flows open');
    const total = Math.max(1, Math.round((args.rate * args.durationMs) / 1000));
    // Catch up at most 5 ms of packets per turn, so receive events and timers still run.
    const maxBurst = Math.max(32, Math.ceil(args.rate / 200));
    const errors0 = this.sendErrors;
    const cpu0 = process.cpuUsage();
    const start = monoMs();
    const giveUpAt = start + 2 * args.durationMs + 500;
    let sent = 0;
    let next = 0;
    let last = start;
    while (sent < total) {
      const now = monoMs();
      if (now > giveUpAt) break;
      const due = Math.min(total, Math.ceil(((now - start) * args.rate) / 1000));
      const n = Math.min(maxBurst, due - sent);
      for (let i = 0; i < n; i++) {
        const idx = next;
        const f = flows[idx] as Flow;
        next = idx + 1 === flows.length ? 0 : idx + 1;
        const buf = Buffer.allocUnsafe(f.header + PROBE_BYTES);
        if (f.header) {
          buf.writeUInt16BE(f.channel, 0);
          buf.writeUInt16BE(PROBE_BYTES, 2);
        }
        writeProbe(buf, f.header, idx, f.seq++, monoMs());
        f.socket.send(buf);
      }
      sent += n;
      last = monoMs();
      if (due - sent > 0) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, 1));
    }
    const cpu = process.cpuUsage(cpu0);
    const elapsedMs = Math.max(1, last - start);
    return {
      sent,
      elapsedMs,
      achievedRate: (sent * 1000) / Math.max(elapsedMs, args.durationMs),
      cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
      sendErrors: this.sendErrors - errors0,
    };
  }

  async close(): Promise<void> {
    const flows = this.flows;
    this.flows = [];
    await Promise.all(flows.map((f) => new Promise<void>((r) => f.socket.close(() => r()))));
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
