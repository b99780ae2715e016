/**
 * The simulated WAN's queue: each packet waits its path's one-way delay, then
 * leaves. Packets of one path share a delay, so one FIFO per delay keeps
 * every path in order and makes "what is due" a look at the queue heads.
 * Bounded in packets and bytes; what does not fit is dropped and counted,
 * like a router's tail drop. Pure: the caller passes the time.
 */
export interface DelayLineStats {
  queued: number;
  queuedBytes: number;
  forwarded: number;
  droppedFull: number;
  droppedCut: number;
  droppedUnknown: number;
}

interface Held {
  due: number;
  packet: Uint8Array;
}

export class DelayLine {
  private readonly queues = new Map<number, Held[]>();
  readonly stats: DelayLineStats = {
    queued: 0,
    queuedBytes: 0,
    forwarded: 0,
    droppedFull: 0,
    droppedCut: 0,
    droppedUnknown: 0,
  };

  constructor(
    readonly maxPackets = 50_000,
    readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** Holds `packet` for `delayMs` from `now`; false (and counted) when the line is full. */
  push(packet: Uint8Array, delayMs: number, now: number): boolean {
    if (this.stats.queued >= this.maxPackets || this.stats.queuedBytes + packet.length > this.maxBytes) {
      this.stats.droppedFull++;
      return false;
    }
    let q = this.queues.get(delayMs);
    if (!q) {
      q = [];
      this.queues.set(delayMs, q);
    }
    q.push({ due: now + delayMs, packet });
    this.stats.queued++;
    this.stats.queuedBytes += packet.length;
    return true;
  }

  /** Every packet due at `now`, oldest first within each path. */
  takeDue(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const q of this.queues.values()) {
      let n = 0;
      while (n < q.length && (q[n] as Held).due <= now) n++;
      if (n === 0) continue;
      for (const h of q.splice(0, n)) {
        out.push(h.packet);
        this.stats.queued--;
        this.stats.queuedBytes -= h.packet.length;
      }
    }
    this.stats.forwarded += out.length;
    return out;
  }

  /** When the next packet is due, or undefined when nothing is held. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const q of this.queues.values()) {
      const head = q[0];
      if (head && (next === undefined || head.due < next)) next = head.due;
    }
    return next;
  }
}

/** Source and destination IPv4 addresses of an IPv4 packet as u32s, or undefined for anything else. */
export function ipv4Endpoints(packet: Uint8Array): { src: number; dst: number } | undefined {
  if (packet.length < 20 || packet[0] === undefined || packet[0] >> 4 !== 4) return undefined;
  const v = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return { src: v.getUint32(12), dst: v.getUint32(16) };
}
