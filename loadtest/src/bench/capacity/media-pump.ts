import { isRtcp, rtpHeaderLength } from '@parley/shared/srtp/rtp-header.js';
import { type Clock, monotonicClock, systemTimers, type Timers } from '@parley/shared/time/clock.js';
import { OPUS_PAYLOAD_TYPE } from '@parley/shared/webrtc/opus-codecs.js';
import { makeProbe, PROBE_PAYLOAD_BYTES, readProbe, readProbeAt } from '../../call/probe-payload.js';

/**
 * The capacity bench's media clock: one timer for every session instead of
 * one per session. A 20 ms frame period is cut into `slots` phases and each
 * session sends in its own phase, so the transceiver sees traffic spread
 * over the period as from independent clients, while the generator wakes
 * once per phase (1,000 times a second with 20 slots) whatever the session
 * count. Per packet there are no closures, Maps, Sets or allocations: the
 * RTP packet is rewritten in one scratch buffer and RTT bookkeeping lives in
 * typed-array rings.
 */

/** SRTP for one session, both directions (node:crypto or libsrtp2: whatever the engine offers). */
export interface PumpSrtp {
  protectRtp(rtp: Uint8Array): Buffer;
  unprotectRtp(srtp: Uint8Array): Buffer | null;
  unprotectRtcp(srtcp: Uint8Array): Buffer | null;
  /** libsrtp2's zero-allocation variants, used when present. */
  protectRtpInto?(rtp: Uint8Array, out: Uint8Array): number;
  unprotectRtpInto?(srtp: Uint8Array, out: Uint8Array): number;
}

export interface PumpSessionIo {
  /** Outbound SRTP (our key). */
  outbound: PumpSrtp;
  /** Inbound SRTP/SRTCP (the peer's key). */
  inbound: PumpSrtp;
  /** Sends one protected datagram; must copy it (the buffer is reused). */
  send(datagram: Uint8Array): void;
}

export interface MediaPumpOptions {
  /** Packets per second each way per session (50 = 20 ms frames). */
  packetRate?: number;
  /** Phases per frame period (default 20: 1 ms apart at 50 packets/s). */
  slots?: number;
  payloadBytes?: number;
  /** Monotonic ms (default monotonicClock). */
  clock?: Clock;
  /** Every echo's RTT (ms) as it is matched to its probe. */
  onEcho?: (rttMs: number) => void;
  /**
   * Whether echoes carry their probe's RTP timestamp (rtp-echo and the bare
   * werift peer: true) or the far end's own media clock (PCM agents).
   */
  reflectsTimestamps?: boolean;
  /**
   * Authenticate and decrypt one echo in this many (1: all). Echoes are
   * matched by their clear RTP timestamp; the sampled ones must also carry
   * the probe number that timestamp names. RTCP is always authenticated.
   */
  verifyEvery?: number;
  /** Wakes the pump for its next phase (default systemTimers; tests drive tick() themselves). */
  timers?: Timers;
}

/** Probes remembered per session for matching: 256 × 20 ms = 5 s of RTT. */
const RING = 256;
const RING_MASK = RING - 1;
/** A send this far behind its phase counts as late (timers fire up to ~1 ms late by design). */
const LATE_MS = 4;
/** 48 kHz RTP clock ticks per 20 ms frame: the media clock a PCM agent's echo carries. */
const TICKS_PER_FRAME = 960;

export class PumpSession {
  /** Probes sent (probe numbers 0..sent-1). */
  sent = 0;
  /** Distinct probes echoed. */
  received = 0;
  /** Echoes of probes older than the ring (RTT > 5 s), or duplicates: not counted as received. */
  late = 0;
  /** Inbound packets that failed SRTP/SRTCP authentication or replay checks. */
  authFailures = 0;
  /** Authenticated inbound RTCP packets. */
  rtcp = 0;
  /** Echoes authenticated and decrypted (one in verifyEvery). */
  verified = 0;
  /** Verified echoes whose payload named another probe than their timestamp. */
  mismatched = 0;
  /** Echoes whose timestamp is not on a frame boundary. */
  unmatched = 0;
  private sinceVerified = 0;
  private seq: number;
  private ts: number;
  /** Our first timestamp: probe n carries firstTs + 960 × (n + 1). */
  private readonly firstTs: number;
  private readonly sentAt = new Float64Array(RING);
  private readonly seen = new Int32Array(RING).fill(-1);
  private firstEchoTs = -1;
  sending = false;
  slot = 0;

  constructor(
    readonly io: PumpSessionIo,
    readonly ssrc: number,
    private readonly pump: MediaPump,
    firstSeq: number,
    firstTs: number,
  ) {
    this.seq = firstSeq & 0xffff;
    this.ts = firstTs >>> 0;
    this.firstTs = (this.ts + TICKS_PER_FRAME) >>> 0;
  }

  /** Builds probe `sent` into the pump's scratch packet, protects and sends it. */
  sendNext(now: number): void {
    const p = this.pump;
    const pkt = p.plain;
    const probe = this.sent++;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + TICKS_PER_FRAME) >>> 0;
    pkt[2] = this.seq >>> 8;
    pkt[3] = this.seq & 0xff;
    pkt.writeUInt32BE(this.ts, 4);
    pkt.writeUInt32BE(this.ssrc, 8);
    pkt.writeUInt32BE(probe >>> 0, p.probeAt);
    this.sentAt[probe & RING_MASK] = now;
    const out = this.io.outbound;
    if (out.protectRtpInto) {
      const n = out.protectRtpInto(pkt, p.protectedScratch);
      this.io.send(p.protectedView(n));
    } else {
      this.io.send(out.protectRtp(pkt));
    }
  }

  /** One inbound SRTP/SRTCP datagram (valid only during the call). */
  receive(data: Uint8Array, now: number): void {
    if (isRtcp(data)) {
      // The transceiver's reports: authenticated, otherwise ignored.
      if (this.io.inbound.unprotectRtcp(data)) this.rtcp++;
      else this.authFailures++;
      return;
    }
    if (data.length < 12) return;
    const p = this.pump;
    // The echo's media clock names its probe (in the clear part of SRTP, RFC 3711 §3.1): rtp-echo
    // and the bare werift peer reflect each probe's timestamp; re-encoded audio (a PCM agent)
    // carries its own clock, one frame per probe, counted from the first echo (probe 0's).
    const ts =
      (((data[4] as number) << 24) |
        ((data[5] as number) << 16) |
        ((data[6] as number) << 8) |
        (data[7] as number)) >>>
      0;
    let base = this.firstTs;
    if (!p.reflectsTimestamps) {
      if (this.firstEchoTs < 0) this.firstEchoTs = ts;
      base = this.firstEchoTs;
    }
    const d = (ts - base) >>> 0;
    if (d % TICKS_PER_FRAME !== 0) {
      this.unmatched++;
      return;
    }
    const probe = d / TICKS_PER_FRAME;
    if (probe >= this.sent || probe < this.sent - RING || this.seen[probe & RING_MASK] === probe) {
      this.late++;
      return;
    }
    // One echo in verifyEvery is authenticated and decrypted (libsrtp's replay window and ROC
    // estimate take the gaps), and a reflected probe must carry the number its timestamp names.
    if (++this.sinceVerified >= p.verifyEvery) {
      this.sinceVerified = 0;
      const named = this.verify(data);
      if (named === -2) return;
      this.verified++;
      if (p.reflectsTimestamps && named !== probe) {
        this.mismatched++;
        return;
      }
    }
    this.seen[probe & RING_MASK] = probe;
    this.received++;
    p.echo(now - (this.sentAt[probe & RING_MASK] as number));
  }

  /** Unprotects one SRTP packet: the probe number it carries, -1 for none, -2 when it fails authentication. */
  private verify(data: Uint8Array): number {
    const p = this.pump;
    const inb = this.io.inbound;
    let plain: Uint8Array;
    if (inb.unprotectRtpInto) {
      const n = inb.unprotectRtpInto(data, p.unprotectScratch);
      if (n < 0) {
        this.authFailures++;
        return -2;
      }
      plain = p.unprotectedView(n);
    } else {
      const b = inb.unprotectRtp(data);
      if (!b) {
        this.authFailures++;
        return -2;
      }
      plain = b;
    }
    const at = rtpHeaderLength(plain);
    return at < 0 ? -1 : readProbeAt(plain, at);
  }

  /** Probes sent and not (yet) echoed. */
  get lost(): number {
    return this.sent - this.received;
  }
}

export class MediaPump {
  /** The plaintext RTP packet every session rewrites before protecting it. */
  readonly plain: Buffer;
  /** Where the probe number sits in `plain`. */
  readonly probeAt: number;
  readonly protectedScratch = Buffer.alloc(2048);
  readonly unprotectScratch = Buffer.alloc(2048);
  private readonly protectedViews: Buffer[] = [];
  private readonly unprotectedViews: Buffer[] = [];
  private readonly slots: PumpSession[][];
  private readonly periodMs: number;
  private readonly slotMs: number;
  private readonly now: Clock;
  private readonly onEcho: (rttMs: number) => void;
  private readonly timers: Timers;
  private running = false;
  private timer: unknown;
  /** Absolute time of the next slot to send, and which one it is. */
  private nextAt = 0;
  private nextSlot = 0;
  private nextAssign = 0;
  /** Slot sends that ran more than LATE_MS after their time (the generator fell behind its own clock). */
  lateSlots = 0;
  readonly reflectsTimestamps: boolean;
  readonly verifyEvery: number;
  /** Slots skipped after a stall of more than a frame period (no catch-up bursts). */
  skippedSlots = 0;
  echoes = 0;

  constructor(o: MediaPumpOptions = {}) {
    const rate = o.packetRate ?? 50;
    this.reflectsTimestamps = o.reflectsTimestamps ?? true;
    this.verifyEvery = Math.max(1, Math.floor(o.verifyEvery ?? 1));
    const slots = o.slots ?? 20;
    this.periodMs = 1000 / rate;
    this.slotMs = this.periodMs / slots;
    this.slots = Array.from({ length: slots }, () => []);
    this.now = o.clock ?? monotonicClock;
    this.onEcho = o.onEcho ?? (() => {});
    this.timers = o.timers ?? systemTimers;
    const probe = makeProbe(0, o.payloadBytes ?? PROBE_PAYLOAD_BYTES);
    this.plain = Buffer.alloc(12 + probe.length);
    this.plain[0] = 0x80;
    this.plain[1] = OPUS_PAYLOAD_TYPE;
    probe.copy(this.plain, 12);
    // makeProbe ends with the magic and the number (see probe-payload.ts).
    this.probeAt = this.plain.length - (probe[2] as number) + 4;
    if (readProbe(this.plain.subarray(12)) !== 0) throw new Error('probe layout changed');
  }

  /** A session joins the next phase in turn; it starts sending at its phase's next turn. */
  add(io: PumpSessionIo, ssrc: number, firstSeq: number, firstTs: number): PumpSession {
    const s = new PumpSession(io, ssrc, this, firstSeq, firstTs);
    s.slot = this.nextAssign;
    this.nextAssign = (this.nextAssign + 1) % this.slots.length;
    (this.slots[s.slot] as PumpSession[]).push(s);
    s.sending = true;
    return s;
  }

  /** Stops a session's sends (its echoes still count). */
  pause(s: PumpSession): void {
    s.sending = false;
  }

  remove(s: PumpSession): void {
    s.sending = false;
    const list = this.slots[s.slot] as PumpSession[];
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextAt = this.now();
    this.nextSlot = 0;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends every slot that is due at `now` (late ones too, once each). */
  tick(now = this.now()): void {
    const lag = now - this.nextAt;
    if (lag > this.periodMs) {
      // A stall longer than a frame: real clients would not send their missed frames in a burst.
      const skip = Math.floor((lag - this.periodMs) / this.slotMs) + 1;
      this.nextAt += skip * this.slotMs;
      this.nextSlot = (this.nextSlot + skip) % this.slots.length;
      this.skippedSlots += skip;
    }
    while (this.nextAt <= now) {
      if (now - this.nextAt > LATE_MS) this.lateSlots++;
      const list = this.slots[this.nextSlot] as PumpSession[];
      for (let i = 0; i < list.length; i++) {
        const s = list[i] as PumpSession;
        if (s.sending) s.sendNext(now);
      }
      this.nextSlot = (this.nextSlot + 1) % this.slots.length;
      this.nextAt += this.slotMs;
    }
  }

  private arm(): void {
    const wait = Math.max(0, this.nextAt - this.now());
    this.timer = this.timers.setTimeout(() => {
      if (!this.running) return;
      this.tick();
      this.arm();
    }, wait);
  }

  /** @internal one matched echo */
  echo(rttMs: number): void {
    this.echoes++;
    this.onEcho(rttMs);
  }

  /** @internal a view of the first n bytes of the protect scratch (made once per length) */
  protectedView(n: number): Buffer {
    let v = this.protectedViews[n];
    if (!v) {
      v = this.protectedScratch.subarray(0, n);
      this.protectedViews[n] = v;
    }
    return v;
  }

  /** @internal */
  unprotectedView(n: number): Buffer {
    let v = this.unprotectedViews[n];
    if (!v) {
      v = this.unprotectScratch.subarray(0, n);
      this.unprotectedViews[n] = v;
    }
    return v;
  }
}
