import { describe, expect, it } from 'vitest';
import { LOST_MEDIA_SILENCE_MS, noticeEndsCall, SseParser } from './session-events-client.js';

describe('SseParser', () => {
  it('yields named events split across chunks, skipping comments and retry lines', () => {
    const p = new SseParser();
    expect(p.push('retry: 2000\n: watching session\n\nevent: session.en')).toEqual([]);
    expect(p.push('ded\ndata: {"type":"session.ended",')).toEqual([]);
    expect(p.push('"reason":"transceiver_lost","t":5}\n\n')).toEqual([
      { event: 'session.ended', data: '{"type":"session.ended","reason":"transceiver_lost","t":5}' },
    ]);
  });

  it('handles CRLF and CR line ends, multi-line data and unnamed events', () => {
    const p = new SseParser();
    expect(p.push('data: a\r\ndata:b\r')).toEqual([]);
    expect(p.push('\n\r\n: c\revent: x\rdata: y\r\n\r\n')).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'x', data: 'y' },
    ]);
  });

  it('drops an event without data and bounds an endless line', () => {
    const p = new SseParser();
    expect(p.push('event: only\n\n')).toEqual([]);
    p.push('x'.repeat(70_000));
    expect(p.push('\ndata: ok\n\n')).toEqual([{ event: 'message', data: 'ok' }]);
  });
});

describe('noticeEndsCall', () => {
  it('transceiver_lost while echoes still arrive: the call goes on (a cut between regions looks the same to the edge)', () => {
    expect(noticeEndsCall('transceiver_lost', 30)).toBe(false);
    expect(noticeEndsCall('transceiver_lost', LOST_MEDIA_SILENCE_MS - 1)).toBe(false);
  });

  it('transceiver_lost ends the call once the echoes stopped, or when none came', () => {
    expect(noticeEndsCall('transceiver_lost', LOST_MEDIA_SILENCE_MS)).toBe(true);
    expect(noticeEndsCall('transceiver_lost', Number.NaN)).toBe(true);
  });

  it('reasons from the transceiver itself end the call at once', () => {
    expect(noticeEndsCall('deleted', 0)).toBe(true);
    expect(noticeEndsCall('shutdown', 0)).toBe(true);
  });
});
