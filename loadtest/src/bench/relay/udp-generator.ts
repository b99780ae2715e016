import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { ipv4ToU32, loadNativeUdp, type NativeUdpGroup } from '@parley/native/udp';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { type DatagramChannel, openTurnChannel } from '../turn/turn-client.js';
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

/** One flow: its socket seen as a channel to the target (a connected node:dgram socket or a native group member). */
interface Flow {
  link: DatagramChannel;
  /** Native group member id, or -1 on node:dgram. */
  member: number;
  /** ChannelData header bytes before the probe (0 or 4). */
  header: number;
  channel: number;
  seq: number;
}

/** A native group member seen as a connected socket, for the handshakes (STUN, TURN) before the run. */
class MemberChannel extends EventEmitter implements DatagramChannel {
  constructor(
    private readonly group: NativeUdpGroup,
    readonly id: number,
    private readonly target: { port: number; ip4: number },
  ) {
    super();
  }
  send(msg: Buffer): void {
    this.group.send(this.id, msg, 0, msg.length, this.target.port, this.target.ip4);
  }
}

/**
 * Sends 200-byte probes round-robin over many UDP flows (one socket each)
 * at a steady rate, in bursts paced by the monotonic clock. Bounded: a run
 * stops after twice its duration even if it fell behind.
 *
 * On the native UDP group (native/udp) a burst is one addon call
 * (`sendMany`: a sendto per datagram, no per-datagram JavaScript callback
 * or libuv request), which is what lets one load core outrun the relays
 * under test; node:dgram (`nativeIo: false`, or where the addon is not
 * built) tops out near 100k packets/s here, about where coturn and the
 * native relay do, which left their comparison inconclusive.
 */
export class UdpGenerator {
  private flows: Flow[] = [];
  private group: NativeUdpGroup | undefined;
  /** The node:dgram sockets when the group is not used (closed one by one). */
  private sockets: Socket[] = [];
  private target = { port: 0, ip4: 0 };
  private sendErrors = 0;

  constructor(private readonly opts: { nativeIo?: boolean } = {}) {}

  /** Which socket API the flows use (set by open()). */
  get io(): 'native' | 'dgram' {
    return this.group ? 'native' : 'dgram';
  }

  async open(args: OpenArgs): Promise<{ flows: number; io: 'native' | 'dgram' }> {
    await this.close();
    const { mode } = args;
    if (mode.kind === 'parley' && mode.usernames.length < args.flows)
      throw new Error('parley mode needs one STUN username per flow');
    const native = this.opts.nativeIo === false ? undefined : loadNativeUdp();
    const header = mode.kind === 'turn' ? 4 : 0;
    if (native) {
      const group = new native.NativeUdpGroup({ batch: 256, maxMembers: args.flows + 16 });
      this.group = group;
      this.target = { port: args.target.port, ip4: ipv4ToU32(args.target.ip) };
      const byId = new Map<number, MemberChannel>();
      group.onBatch = (b) => {
        for (let i = 0, m = 0; i < b.count; i++, m += 5) {
          const ch = byId.get(b.meta[m + 4] as number);
          const off = b.meta[m] as number;
          // The slab is reused after this call: the handshake code keeps what it parses.
          if (ch) ch.emit('message', Buffer.from(b.data.subarray(off, off + (b.meta[m + 1] as number))));
        }
      };
      for (let i = 0; i < args.flows; i++) {
        const { id } = group.open('127.0.0.1', 0, { sendBufferBytes: 1 << 20 });
        const ch = new MemberChannel(group, id, this.target);
        byId.set(id, ch);
        this.flows.push({ link: ch, member: id, header, channel: CHANNEL_MIN, seq: 0 });
      }
    } else {
      for (let i = 0; i < args.flows; i++) {
        const socket: Socket = createSocket({ type: 'udp4', sendBufferSize: 1 << 20 });
        socket.on('error', () => {
          this.sendErrors++;
        });
        await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
        await new Promise<void>((r) => socket.connect(args.target.port, args.target.ip, () => r()));
        this.sockets.push(socket);
        this.flows.push({ link: socket, member: -1, header, channel: CHANNEL_MIN, seq: 0 });
      }
    }
    if (mode.kind === 'parley') {
      // The relay opens a flow for a Binding Request whose USERNAME carries a valid routing token.
      this.flows.forEach((f, i) => {
        f.link.send(buildBindingRequest({ username: mode.usernames[i] as string }));
      });
    } else if (mode.kind === 'turn') {
      await inBatches(this.flows, 32, async (f) => {
        await openTurnChannel(f.link, {
          username: mode.username,
          password: mode.password,
          peer: mode.peer,
          channel: f.channel,
        });
      });
    }
    return { flows: this.flows.length, io: this.io };
  }

  async run(args: RunArgs): Promise<RunResult> {
    const flows = this.flows;
    if (flows.length === 0) throw new Error('no flows open');
    const total = Math.max(1, Math.round((args.rate * args.durationMs) / 1000));
    // Catch up at most 5 ms of packets per turn, so receive events and timers still run.
    const maxBurst = Math.max(32, Math.ceil(args.rate / 200));
    const group = this.group;
    const stride = 4 + PROBE_BYTES;
    // Native: one slab and one row table per burst (5 Uint32 per datagram: member, offset, length, port, IPv4).
    const slab = group ? Buffer.alloc(maxBurst * stride) : undefined;
    const rows = group ? new Uint32Array(maxBurst * 5) : undefined;
    const errors0 = this.sendErrors + (group?.stats.sendErrors ?? 0);
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
        const len = f.header + PROBE_BYTES;
        const buf = slab ?? Buffer.allocUnsafe(len);
        const at = slab ? i * stride : 0;
        if (f.header) {
          buf.writeUInt16BE(f.channel, at);
          buf.writeUInt16BE(PROBE_BYTES, at + 2);
        }
        writeProbe(buf, at + f.header, idx, f.seq++, monoMs());
        if (rows) {
          const r = i * 5;
          rows[r] = f.member;
          rows[r + 1] = at;
          rows[r + 2] = len;
          rows[r + 3] = this.target.port;
          rows[r + 4] = this.target.ip4;
        } else f.link.send(buf);
      }
      if (group && slab && rows && n > 0) group.sendMany(slab, rows, n);
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
      sendErrors: this.sendErrors + (group?.stats.sendErrors ?? 0) - errors0,
    };
  }

  async close(): Promise<void> {
    this.flows = [];
    this.group?.close();
    this.group = undefined;
    const sockets = this.sockets;
    this.sockets = [];
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
