import { initialRtpSequenceNumber } from '@parley/shared/srtp/initial-sequence.js';
import { isRtcp, rtpHeaderLength } from '@parley/shared/srtp/rtp-header.js';
import { createSrtpTransform, type SrtpTransform } from '@parley/shared/srtp/srtp-engine.js';
import type { SrtpKeyingMaterial } from '@parley/shared/webrtc/lite-peer.js';
import { ReceiveStats } from './receive-stats.js';
import { buildSenderReport, type PeerSenderReport, readRtcp } from './rtcp-report.js';

export interface OutboundStream {
  ssrc: number;
  payloadType: number;
  clockRate: number;
}

export interface MediaTransportOptions {
  keys: SrtpKeyingMaterial;
  outbound: OutboundStream;
  /** RTCP SDES CNAME. */
  cname: string;
  /** Sends one protected datagram to the session's current media address. */
  send(data: Buffer): void;
  /** One authenticated inbound RTP packet. `payload` is a view valid only during the call. */
  onRtp(seq: number, timestamp: number, payload: Buffer): void;
  /** Any authenticated SRTP/SRTCP packet: proof the peer holds the session's keys. */
  onAuthenticated(): void;
  /** An authenticated packet carried an SSRC other than the last one seen (the client's stream). */
  onRemoteSsrc?(ssrc: number): void;
  /** Monotonic ms, for jitter. */
  now(): number;
  /** Wall-clock ms, for RTCP's NTP timestamps. */
  wallNow(): number;
}

/** Plain integers: read by observable instruments, never per-packet work beyond `++`. */
export interface MediaCounters {
  rtpIn: number;
  rtpOut: number;
  rtcpIn: number;
  rtcpOut: number;
  /** SRTP/SRTCP that failed authentication or replay checks, or was malformed. */
  dropped: number;
}

/** Process-wide sums of every session's MediaCounters, for Prometheus (see transceiver-metrics.ts). */
export const srtpTotals: MediaCounters = { rtpIn: 0, rtpOut: 0, rtcpIn: 0, rtcpOut: 0, dropped: 0 };

/** Largest RTP packet we build (header + Opus payload); Opus frames are far smaller. */
const MAX_RTP = 1_500;

/**
 * One session's media after DTLS: SRTP/SRTCP in Parley's own code (werift
 * only did the handshake), RTP headers read and written in place, and
 * RTCP sender/receiver reports for the one audio stream each way. Nothing
 * here allocates per packet beyond the protected output buffer.
 */
export class MediaTransport {
  readonly counters: MediaCounters = { rtpIn: 0, rtpOut: 0, rtcpIn: 0, rtcpOut: 0, dropped: 0 };
  readonly received: ReceiveStats;
  /** The peer's latest round-trip estimate from its report blocks about our stream. */
  rttMs: number | undefined;
  /** The peer's latest fraction-lost report about our stream (0–1). */
  remoteFractionLost: number | undefined;
  private readonly inbound: SrtpTransform;
  private readonly outbound: SrtpTransform;
  private readonly scratch = Buffer.allocUnsafe(MAX_RTP);
  /** The last sequence number sent: the first packet carries a low random start (initialRtpSequenceNumber). */
  private seq = initialRtpSequenceNumber() - 1;
  private octetsSent = 0;
  private lastTimestamp = 0;
  private lastSentAtWall = 0;
  private peerSr: PeerSenderReport | undefined;

  constructor(private readonly opts: MediaTransportOptions) {
    const { keys } = opts;
    this.outbound = createSrtpTransform(keys.profile, keys.localKey, keys.localSalt);
    this.inbound = createSrtpTransform(keys.profile, keys.remoteKey, keys.remoteSalt);
    this.received = new ReceiveStats(opts.outbound.clockRate);
  }

  private lastRemoteSsrc = -1;

  /**
   * An SRTP or SRTCP datagram (first byte 128–191); true if it authenticated.
   * A packet that does not is dropped and counted, and changes no state
   * (unprotect touches the replay window only after authentication).
   */
  receive(data: Buffer): boolean {
    if (isRtcp(data)) {
      const plain = this.inbound.unprotectRtcp(data);
      if (!plain) {
        this.counters.dropped++;
        srtpTotals.dropped++;
        return false;
      }
      this.counters.rtcpIn++;
      srtpTotals.rtcpIn++;
      this.opts.onAuthenticated();
      this.noteSsrc(plain.readUInt32BE(4));
      this.onRtcp(plain);
      return true;
    }
    const plain = this.inbound.unprotectRtp(data);
    const headerBytes = plain ? rtpHeaderLength(plain) : -1;
    if (!plain || headerBytes < 0) {
      this.counters.dropped++;
      srtpTotals.dropped++;
      return false;
    }
    this.counters.rtpIn++;
    srtpTotals.rtpIn++;
    this.opts.onAuthenticated();
    this.noteSsrc(plain.readUInt32BE(8));
    const seq = plain.readUInt16BE(2);
    const timestamp = plain.readUInt32BE(4);
    this.received.onPacket(plain.readUInt32BE(8), seq, timestamp, this.opts.now());
    // RFC 3550 §5.1: with P set, the last byte counts the padding to strip.
    const end =
      (plain[0] as number) & 0x20 ? plain.length - (plain[plain.length - 1] as number) : plain.length;
    if (end > headerBytes) this.opts.onRtp(seq, timestamp, plain.subarray(headerBytes, end));
    return true;
  }

  private noteSsrc(ssrc: number): void {
    if (ssrc === this.lastRemoteSsrc) return;
    this.lastRemoteSsrc = ssrc;
    this.opts.onRemoteSsrc?.(ssrc);
  }

  /** One Opus payload out, with our sequence numbers and SSRC. */
  sendRtp(payload: Buffer, timestamp: number, marker: boolean): void {
    const size = 12 + payload.length;
    if (size > MAX_RTP) {
      this.counters.dropped++;
      return;
    }
    const { outbound } = this.opts;
    const b = this.scratch;
    this.seq = (this.seq + 1) & 0xffff;
    b[0] = 0x80;
    b[1] = (marker ? 0x80 : 0) | outbound.payloadType;
    b.writeUInt16BE(this.seq, 2);
    b.writeUInt32BE(timestamp >>> 0, 4);
    b.writeUInt32BE(outbound.ssrc >>> 0, 8);
    payload.copy(b, 12);
    this.opts.send(this.outbound.protectRtp(b.subarray(0, size)));
    this.counters.rtpOut++;
    srtpTotals.rtpOut++;
    this.octetsSent += payload.length;
    this.lastTimestamp = timestamp >>> 0;
    this.lastSentAtWall = this.opts.wallNow();
  }

  /** A sender report (with a receiver block once media arrived); the owner calls it every few seconds. */
  sendReport(): void {
    const wall = this.opts.wallNow();
    const { outbound } = this.opts;
    const report = buildSenderReport(
      {
        ssrc: outbound.ssrc,
        packetsSent: this.counters.rtpOut,
        octetsSent: this.octetsSent,
        lastRtpTimestamp: this.lastTimestamp,
        lastSentAtMs: this.lastSentAtWall || wall,
        clockRate: outbound.clockRate,
      },
      this.opts.cname,
      wall,
      this.received,
      this.peerSr,
    );
    this.opts.send(this.outbound.protectRtcp(report));
    this.counters.rtcpOut++;
    srtpTotals.rtcpOut++;
  }

  private onRtcp(plain: Buffer): void {
    const s = readRtcp(plain, this.opts.outbound.ssrc, this.opts.wallNow());
    if (s.senderReport) this.peerSr = s.senderReport;
    if (s.rttMs !== undefined) this.rttMs = s.rttMs;
    if (s.fractionLost !== undefined) this.remoteFractionLost = s.fractionLost;
  }
}
