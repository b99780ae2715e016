import type { ReceiveStats } from './receive-stats.js';

/**
 * RTCP sender and receiver reports for one audio stream each way (RFC 3550
 * §6.4), built and read by hand: the transceiver sends one compound packet
 * every few seconds, so clarity matters more than speed here.
 */

const PT_SR = 200;
const PT_RR = 201;
const PT_SDES = 202;
/** Seconds from 1900 (NTP) to 1970 (Unix). */
const NTP_UNIX_OFFSET = 2_208_988_800;

export interface SenderState {
  ssrc: number;
  packetsSent: number;
  octetsSent: number;
  /** RTP timestamp of the last packet sent, and when (wall clock ms) it was sent. */
  lastRtpTimestamp: number;
  lastSentAtMs: number;
  clockRate: number;
}

/** What we remember of the peer's last SR, for LSR/DLSR (RFC 3550 §6.4.1). */
export interface PeerSenderReport {
  /** Middle 32 bits of its NTP timestamp. */
  lsr: number;
  receivedAtMs: number;
}

/** SR (with one report block when we receive) + SDES CNAME: a compound packet ready for SRTCP. */
export function buildSenderReport(
  sender: SenderState,
  cname: string,
  wallMs: number,
  recv: ReceiveStats | undefined,
  peerSr: PeerSenderReport | undefined,
): Buffer {
  const blocks = recv && recv.received > 0 ? 1 : 0;
  const srLen = 28 + 24 * blocks;
  const cnameBytes = Buffer.from(cname, 'utf8').subarray(0, 255);
  // SDES chunk: SSRC, item (type 1, len, text), a terminating zero, padded to 32 bits.
  const chunk = 4 + 2 + cnameBytes.length + 1;
  const sdesLen = 4 + ((chunk + 3) & ~3);
  const out = Buffer.alloc(srLen + sdesLen);

  out[0] = 0x80 | blocks;
  out[1] = PT_SR;
  out.writeUInt16BE(srLen / 4 - 1, 2);
  out.writeUInt32BE(sender.ssrc >>> 0, 4);
  const ntpSeconds = Math.floor(wallMs / 1000) + NTP_UNIX_OFFSET;
  const ntpFraction = Math.floor(((wallMs % 1000) / 1000) * 0x100000000);
  out.writeUInt32BE(ntpSeconds >>> 0, 8);
  out.writeUInt32BE(ntpFraction >>> 0, 12);
  // The RTP time that corresponds to `now`, extrapolated from the last packet sent.
  const rtpNow = sender.lastRtpTimestamp + ((wallMs - sender.lastSentAtMs) * sender.clockRate) / 1000;
  out.writeUInt32BE(Math.floor(rtpNow) >>> 0, 16);
  out.writeUInt32BE(sender.packetsSent >>> 0, 20);
  out.writeUInt32BE(sender.octetsSent >>> 0, 24);
  if (blocks && recv) writeReportBlock(out, 28, recv, wallMs, peerSr);

  const s = srLen;
  out[s] = 0x81;
  out[s + 1] = PT_SDES;
  out.writeUInt16BE(sdesLen / 4 - 1, s + 2);
  out.writeUInt32BE(sender.ssrc >>> 0, s + 4);
  out[s + 8] = 1;
  out[s + 9] = cnameBytes.length;
  cnameBytes.copy(out, s + 10);
  return out;
}

function writeReportBlock(
  out: Buffer,
  at: number,
  recv: ReceiveStats,
  wallMs: number,
  peerSr: PeerSenderReport | undefined,
): void {
  out.writeUInt32BE(recv.ssrc >>> 0, at);
  out[at + 4] = recv.takeFractionLost();
  const lost = recv.cumulativeLost & 0xffffff;
  out[at + 5] = (lost >> 16) & 0xff;
  out.writeUInt16BE(lost & 0xffff, at + 6);
  out.writeUInt32BE(recv.extendedHighestSeq >>> 0, at + 8);
  out.writeUInt32BE(Math.floor(recv.jitter) >>> 0, at + 12);
  out.writeUInt32BE((peerSr?.lsr ?? 0) >>> 0, at + 16);
  // DLSR in 1/65536 s since we received that SR.
  const dlsr = peerSr ? Math.floor(((wallMs - peerSr.receivedAtMs) / 1000) * 65536) : 0;
  out.writeUInt32BE(dlsr >>> 0, at + 20);
}

export interface RtcpSummary {
  /** From a peer SR: for our next report block's LSR. */
  senderReport?: PeerSenderReport;
  /** Round trip from a report block about our stream (RFC 3550 §6.4.1), when it carried LSR. */
  rttMs?: number;
  /** The peer's view of our stream: fraction lost (0–1) and jitter in RTP units. */
  fractionLost?: number;
}

/** Reads a decrypted compound packet: SR/RR blocks about `ourSsrc`; everything else is skipped. */
export function readRtcp(data: Buffer, ourSsrc: number, wallMs: number): RtcpSummary {
  const summary: RtcpSummary = {};
  let off = 0;
  while (off + 8 <= data.length) {
    const count = (data[off] as number) & 0x1f;
    const pt = data[off + 1] as number;
    const len = (data.readUInt16BE(off + 2) + 1) * 4;
    if ((data[off] as number) >> 6 !== 2 || off + len > data.length) break;
    let blocksAt = -1;
    if (pt === PT_SR && len >= 28) {
      const ntpMid = ((data.readUInt32BE(off + 8) & 0xffff) << 16) | (data.readUInt32BE(off + 12) >>> 16);
      summary.senderReport = { lsr: ntpMid >>> 0, receivedAtMs: wallMs };
      blocksAt = off + 28;
    } else if (pt === PT_RR) blocksAt = off + 8;
    for (let i = 0; blocksAt >= 0 && i < count && blocksAt + 24 * (i + 1) <= off + len; i++) {
      const b = blocksAt + 24 * i;
      if (data.readUInt32BE(b) >>> 0 !== ourSsrc >>> 0) continue;
      summary.fractionLost = (data[b + 4] as number) / 256;
      const lsr = data.readUInt32BE(b + 16);
      const dlsr = data.readUInt32BE(b + 20);
      if (lsr !== 0) {
        const nowMid = ntpMiddle32(wallMs);
        const rtt = (((nowMid - lsr - dlsr) >>> 0) / 65536) * 1000;
        if (rtt < 60_000) summary.rttMs = rtt;
      }
    }
    off += len;
  }
  return summary;
}

function ntpMiddle32(wallMs: number): number {
  const seconds = Math.floor(wallMs / 1000) + NTP_UNIX_OFFSET;
  const fraction = Math.floor(((wallMs % 1000) / 1000) * 0x10000);
  return (((seconds & 0xffff) << 16) | fraction) >>> 0;
}
