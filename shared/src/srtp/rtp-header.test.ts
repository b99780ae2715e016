import { describe, expect, it } from 'vitest';
import {
  isRtcp,
  isRtpVersion2,
  rtpCsrcCount,
  rtpHasExtension,
  rtpHasPadding,
  rtpHeaderLength,
  rtpMarker,
  rtpPayloadType,
  rtpSequenceNumber,
  rtpSsrc,
  rtpTimestamp,
  writeRtpHeader,
} from './rtp-header.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RTP header readers', () => {
  it('read every field of a plain header', () => {
    const buf = hex('80e0 f17b 8041f8d3 ffffffff 0102');
    expect(isRtpVersion2(buf)).toBe(true);
    expect(rtpHasPadding(buf)).toBe(false);
    expect(rtpHasExtension(buf)).toBe(false);
    expect(rtpCsrcCount(buf)).toBe(0);
    expect(rtpMarker(buf)).toBe(true);
    expect(rtpPayloadType(buf)).toBe(96);
    expect(rtpSequenceNumber(buf)).toBe(0xf17b);
    expect(rtpTimestamp(buf)).toBe(0x8041f8d3);
    expect(rtpSsrc(buf)).toBe(0xffffffff);
    expect(rtpHeaderLength(buf)).toBe(12);
  });

  it('counts CSRCs and the extension block in the header length', () => {
    // CC=2, X=1, extension of one 32-bit word.
    const buf = hex('b260 0001 00000000 00000001 11111111 22222222 bede0001 10aa0000 ff');
    expect(rtpHasPadding(buf)).toBe(true);
    expect(rtpCsrcCount(buf)).toBe(2);
    expect(rtpHeaderLength(buf)).toBe(12 + 8 + 4 + 4);
  });

  it('answers -1 / false for short, truncated or non-v2 buffers instead of throwing', () => {
    const empty = Buffer.alloc(0);
    expect(isRtpVersion2(empty)).toBe(false);
    expect(rtpCsrcCount(empty)).toBe(-1);
    expect(rtpPayloadType(hex('80'))).toBe(-1);
    expect(rtpSequenceNumber(hex('8000 00'))).toBe(-1);
    expect(rtpTimestamp(hex('8000 0000 000000'))).toBe(-1);
    expect(rtpSsrc(hex('8000 0000 00000000 000000'))).toBe(-1);
    expect(rtpHeaderLength(hex('8000 0000 00000000 000000'))).toBe(-1);
    expect(rtpHeaderLength(hex('4000 0000 00000000 00000000'))).toBe(-1);
    // CC=1 but no CSRC present.
    expect(rtpHeaderLength(hex('8100 0000 00000000 00000000'))).toBe(-1);
    // X=1 with the extension header missing, then with its length overrunning.
    expect(rtpHeaderLength(hex('9000 0000 00000000 00000000'))).toBe(-1);
    expect(rtpHeaderLength(hex('9000 0000 00000000 00000000 bede0002 00000000'))).toBe(-1);
  });

  it('classifies RFC 5761 RTCP packet types 192-223 as RTCP', () => {
    expect(isRtcp(hex('80c8'))).toBe(true); // SR
    expect(isRtcp(hex('81c9'))).toBe(true); // RR
    expect(isRtcp(hex('80c0'))).toBe(true);
    expect(isRtcp(hex('80df'))).toBe(true);
    expect(isRtcp(hex('80bf'))).toBe(false);
    expect(isRtcp(hex('80e0'))).toBe(false); // marker + PT 96
    expect(isRtcp(hex('806f'))).toBe(false);
    expect(isRtcp(hex('40c8'))).toBe(false);
    expect(isRtcp(hex('80'))).toBe(false);
  });
});

describe('writeRtpHeader', () => {
  it('writes a 12-byte header that the readers read back', () => {
    const buf = Buffer.alloc(20, 0xff);
    expect(
      writeRtpHeader(buf, 4, { pt: 111, seq: 0x1_0005, ts: 2 ** 32 + 7, ssrc: 0xcafebabe, marker: true }),
    ).toBe(12);
    const h = buf.subarray(4);
    expect(rtpHeaderLength(h)).toBe(12);
    expect(rtpMarker(h)).toBe(true);
    expect(rtpPayloadType(h)).toBe(111);
    expect(rtpSequenceNumber(h)).toBe(5);
    expect(rtpTimestamp(h)).toBe(7);
    expect(rtpSsrc(h)).toBe(0xcafebabe);
    expect(buf[3]).toBe(0xff);
    expect(buf[16]).toBe(0xff);
  });

  it('refuses a header that does not fit or a payload type outside 0-127', () => {
    expect(writeRtpHeader(Buffer.alloc(11), 0, { pt: 0, seq: 0, ts: 0, ssrc: 0 })).toBe(-1);
    expect(writeRtpHeader(Buffer.alloc(12), 1, { pt: 0, seq: 0, ts: 0, ssrc: 0 })).toBe(-1);
    expect(writeRtpHeader(Buffer.alloc(12), 0, { pt: 128, seq: 0, ts: 0, ssrc: 0 })).toBe(-1);
    expect(writeRtpHeader(Buffer.alloc(12), 0, { pt: Number.NaN, seq: 0, ts: 0, ssrc: 0 })).toBe(-1);
  });
});
