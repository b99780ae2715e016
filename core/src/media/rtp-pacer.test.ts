import { manualTime } from '@parley/shared/testing/manual-time.js';
import { describe, expect, it } from 'vitest';
import { FrameAssembler, type PacerSend, RtpPacer } from './rtp-pacer.js';

function setup(initialTimestamp = 5_000) {
  const time = manualTime(1_000);
  const sent: PacerSend<number>[] = [];
  const pacer = new RtpPacer<number>({ ...time, send: (p) => sent.push(p), initialTimestamp });
  return { time, sent, pacer };
}

describe('RtpPacer', () => {
  it('sends a burst of queued frames one per 20 ms on a drift-free grid with continuous timestamps', () => {
    const { time, sent, pacer } = setup();
    for (let i = 0; i < 50; i++) pacer.enqueue(i);
    expect(sent).toHaveLength(1); // the first goes out at once
    time.advance(1_000);
    expect(sent.map((s) => s.frame)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const gaps = sent.slice(1).map((s, i) => s.sentAt - (sent[i] as PacerSend<number>).sentAt);
    expect(new Set(gaps)).toEqual(new Set([20]));
    expect(sent.map((s) => s.timestamp - 5_000)).toEqual(Array.from({ length: 50 }, (_, i) => i * 960));
    expect(sent[0]?.marker).toBe(true); // a talkspurt begins
    expect(sent.slice(1).some((s) => s.marker)).toBe(false);
    expect(time.pending()).toBe(0);
  });

  it('pause holds every queued frame (none sent, none dropped); resume sends them all as a new talkspurt', () => {
    const { time, sent, pacer } = setup();
    for (let i = 0; i < 20; i++) pacer.enqueue(i);
    time.advance(90); // frames 0-4 at 0, 20, 40, 60, 80 ms
    expect(sent).toHaveLength(5);
    pacer.pause();
    pacer.enqueue(20); // the agent keeps talking while held
    time.advance(300);
    expect(sent).toHaveLength(5);
    expect(pacer.queued).toBe(16);
    expect(pacer.dropped).toBe(0);
    expect(time.pending()).toBe(0); // no timer spins while paused
    pacer.resume();
    time.advance(1_000);
    expect(sent.map((s) => s.frame)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    const first = sent[5] as PacerSend<number>;
    expect(first.marker).toBe(true); // a new talkspurt after the hold...
    // ...whose timestamp moved on by the 310 ms since the last packet (rounded to frames).
    expect(first.timestamp - (sent[4] as PacerSend<number>).timestamp).toBe(16 * 960);
    expect(pacer.dropped).toBe(0);
  });

  it('keeps order and enqueue times when its queue wraps around and grows (ring, not push/splice)', () => {
    const { time, sent, pacer } = setup();
    for (let i = 0; i < 6; i++) pacer.enqueue(i);
    time.advance(90); // 0-4 sent at 0..80 ms: the head has moved 5 slots into the first 8
    expect(sent.map((s) => s.frame)).toEqual([0, 1, 2, 3, 4]);
    // 1 queued; 20 more wrap past the end of the 8 slots and make it grow twice.
    for (let i = 6; i < 26; i++) {
      pacer.enqueue(i);
      time.advance(1); // each is enqueued 1 ms after the one before
    }
    expect(pacer.queued).toBe(20); // frame 5 went at 100 ms
    expect(pacer.oldestSince).toBe(1_000 + 90); // frame 6, enqueued at 90 ms
    expect(pacer.dropOldest()).toBe(true); // frame 6
    expect(pacer.oldestSince).toBe(1_000 + 91); // frame 7
    expect(pacer.dropOldest()).toBe(true); // frame 7
    time.advance(2_000);
    expect(sent.map((s) => s.frame)).toEqual([
      0,
      1,
      2,
      3,
      4,
      5,
      ...Array.from({ length: 18 }, (_, i) => 8 + i),
    ]);
    expect(pacer.queued).toBe(0);
    expect(pacer.oldestSince).toBeUndefined();
    // Empty again, it takes new frames at the slots it reached.
    pacer.enqueue(99);
    time.advance(20);
    expect(sent.at(-1)?.frame).toBe(99);
  });

  it('clear drops what a pause held and leaves the pacer unpaused for the next reply', () => {
    const { time, sent, pacer } = setup();
    for (let i = 0; i < 10; i++) pacer.enqueue(i);
    pacer.pause();
    expect(pacer.clear()).toBe(9);
    pacer.enqueue(100);
    time.advance(100);
    expect(sent.map((s) => s.frame)).toEqual([0, 100]);
  });

  it('goes idle when the queue runs dry and resumes with the timestamp advanced by the silence, marker set', () => {
    const { time, sent, pacer } = setup();
    pacer.enqueue(1);
    pacer.enqueue(2);
    time.advance(500);
    pacer.enqueue(3);
    expect(sent).toHaveLength(3);
    const [, b, c] = sent as [PacerSend<number>, PacerSend<number>, PacerSend<number>];
    expect(c.sentAt).toBe(1_500);
    // 480 ms after the previous packet = 24 frames of media time.
    expect(c.timestamp - b.timestamp).toBe(24 * 960);
    expect(c.marker).toBe(true);
  });

  it('never sends two packets within one period, even when a frame arrives just after one went out', () => {
    const { time, sent, pacer } = setup();
    pacer.enqueue(1);
    time.advance(5);
    pacer.enqueue(2);
    expect(sent).toHaveLength(1);
    time.advance(20);
    expect(sent.map((s) => s.sentAt)).toEqual([1_000, 1_020]);
    expect((sent[1] as PacerSend<number>).timestamp - (sent[0] as PacerSend<number>).timestamp).toBe(960);
  });

  it('skips slots after a stalled timer instead of bursting to catch up', () => {
    const { time, sent, pacer } = setup();
    for (let i = 0; i < 10; i++) pacer.enqueue(i);
    time.advance(20, 45); // the second firing comes 45 ms late
    time.advance(100);
    const gaps = sent.slice(1).map((s, i) => s.sentAt - (sent[i] as PacerSend<number>).sentAt);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(15);
    expect(pacer.lateSlots).toBeGreaterThan(0);
    // Timestamps still follow wall time: the late packet's reflects the slot it went out in.
    expect(((sent[1] as PacerSend<number>).timestamp - 5_000) / 960).toBe(3);
  });

  it('clear() drops the queue at once (barge-in), and nothing more goes out', () => {
    const { time, sent, pacer } = setup();
    for (let i = 0; i < 100; i++) pacer.enqueue(i);
    time.advance(100);
    const before = sent.length;
    expect(pacer.clear()).toBe(100 - before);
    time.advance(1_000);
    expect(sent.length).toBe(before);
    expect(pacer.queued).toBe(0);
  });

  it('bounds the queue and counts what it drops', () => {
    const time = manualTime(1_000);
    const pacer = new RtpPacer<number>({ ...time, send: () => {}, maxQueue: 5 });
    for (let i = 0; i < 10; i++) pacer.enqueue(i);
    expect(pacer.dropped).toBe(4); // one went out at once, five wait
  });
});

describe('FrameAssembler', () => {
  it('cuts arbitrary chunks into 960-sample frames tagged by the chunk that completed them, and pads the tail', () => {
    const a = new FrameAssembler<string>(960);
    expect(a.push(new Int16Array(500).fill(1), 'a')).toEqual([]);
    const out = a.push(new Int16Array(1500).fill(2), 'b');
    expect(out).toHaveLength(2);
    expect(out[0]?.tag).toBe('b');
    expect(out[0]?.pcm[499]).toBe(1);
    expect(out[0]?.pcm[500]).toBe(2);
    expect(a.partial).toBe(2000 - 1920);
    const tail = a.flush();
    expect(tail?.pcm.length).toBe(960);
    expect(tail?.pcm[79]).toBe(2);
    expect(tail?.pcm[80]).toBe(0);
    expect(a.flush()).toBeUndefined();
  });

  it('reuses recycled frame buffers, once each, and pads a recycled tail with silence', () => {
    const a = new FrameAssembler<number>(4);
    const [first] = a.push(Int16Array.of(1, 2, 3, 4), 0);
    const firstPcm = first?.pcm as Int16Array;
    a.recycle(firstPcm);
    a.recycle(firstPcm); // a second hand-back must not make two frames share it
    a.recycle(new Int16Array(3)); // not one of ours: wrong size
    // The buffer the assembler is filling now was allocated; the recycled one comes next.
    const [second, third] = a.push(Int16Array.of(5, 6, 7, 8, 9, 10, 11, 12), 1);
    expect(second?.pcm).not.toBe(firstPcm);
    expect(third?.pcm).toBe(firstPcm);
    expect(Array.from(third?.pcm ?? [])).toEqual([9, 10, 11, 12]);
    // The next frame starts in a fresh buffer (no spare left), so third's samples stay put.
    a.push(Int16Array.of(13), 2);
    expect(Array.from(third?.pcm ?? [])).toEqual([9, 10, 11, 12]);
    // A tail flushed from a recycled buffer is padded with zeros, not the old frame's samples.
    a.flush();
    a.recycle(third?.pcm as Int16Array);
    a.push(Int16Array.of(1, 1, 1, 1), 3);
    a.push(Int16Array.of(7), 4);
    expect(Array.from(a.flush()?.pcm ?? [])).toEqual([7, 0, 0, 0]);
  });

  it('pushEach hands frames to a callback as they complete, reading only `length` samples', () => {
    const a = new FrameAssembler<number>(4);
    const got: { pcm: number[]; tag: number }[] = [];
    const input = Int16Array.from({ length: 12 }, (_, i) => i + 1);
    a.pushEach(input, 7, (pcm, tag) => got.push({ pcm: Array.from(pcm), tag }), 10);
    expect(got).toEqual([
      { pcm: [1, 2, 3, 4], tag: 7 },
      { pcm: [5, 6, 7, 8], tag: 7 },
    ]);
    expect(a.partial).toBe(2); // 9 and 10; 11 and 12 were past `length`
    a.pushEach(Int16Array.of(20, 21), 8, (pcm, tag) => got.push({ pcm: Array.from(pcm), tag }));
    expect(got.at(-1)).toEqual({ pcm: [9, 10, 20, 21], tag: 8 });
  });

  it('pushEach: a frame recycled inside the callback is reused later without touching the frame being filled', () => {
    const a = new FrameAssembler<number>(2);
    const seen: Int16Array[] = [];
    const contents: number[][] = [];
    a.pushEach(
      Int16Array.from({ length: 8 }, (_, i) => i),
      0,
      (pcm) => {
        seen.push(pcm);
        contents.push(Array.from(pcm));
        a.recycle(pcm); // encoded at once, as the pacer does for live audio
      },
    );
    expect(contents).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
    // Recycling inside the callback lets two buffers take turns instead of one per frame.
    expect(new Set(seen).size).toBe(2);
  });

  it('hands out frames that never overlap, across slabs', () => {
    const a = new FrameAssembler<number>(3);
    const input = Int16Array.from({ length: 3 * 40 }, (_, i) => i);
    const frames = a.push(input, 0);
    expect(frames).toHaveLength(40);
    // Each frame kept its own samples although later frames were written after it.
    frames.forEach((f, k) => {
      expect(Array.from(f.pcm)).toEqual([3 * k, 3 * k + 1, 3 * k + 2]);
    });
    expect(new Set(frames.map((f) => f.pcm)).size).toBe(40);
  });
});

describe('RtpPacer backlog of live frames', () => {
  it('works off a live backlog 4 ms per packet (never closer than 16 ms), but never hurries model speech', () => {
    for (const live of [true, false]) {
      const time = manualTime(1_000);
      const sent: PacerSend<number>[] = [];
      const pacer = new RtpPacer<number>({
        ...time,
        send: (p) => sent.push(p),
        liveIndex: (f) => (live ? f : undefined),
      });
      // A burst of three, then one frame every 20 ms: a standing backlog of two.
      for (let i = 0; i < 3; i++) pacer.enqueue(i);
      for (let i = 3; i < 40; i++) {
        time.advance(20);
        pacer.enqueue(i);
      }
      time.advance(200);
      const gaps = sent.slice(1).map((s, i) => s.sentAt - (sent[i] as PacerSend<number>).sentAt);
      // Residence of the last frame: enqueued at 1000 + 37*20.
      const lastDelay = (sent.at(-1)?.sentAt as number) - (1_000 + 37 * 20);
      if (live) {
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(16);
        expect(lastDelay).toBeLessThanOrEqual(20);
        expect(pacer.hurried).toBeGreaterThan(0);
      } else {
        expect(Math.min(...gaps)).toBe(20);
        expect(lastDelay).toBe(40);
        expect(pacer.hurried).toBe(0);
      }
      // Timestamps are media time either way: 960 apart.
      expect(
        new Set(sent.slice(1).map((s, i) => s.timestamp - (sent[i] as PacerSend<number>).timestamp)),
      ).toEqual(new Set([960]));
    }
  });

  it('with maxLiveWaitMs, a burst after a stall goes out within the bound instead of draining 4 ms a packet', () => {
    for (const bound of [20, undefined]) {
      const time = manualTime(1_000);
      const sent: PacerSend<number>[] = [];
      const enqueuedAt: number[] = [];
      const pacer = new RtpPacer<number>({
        ...time,
        send: (p) => sent.push(p),
        liveIndex: (f) => f,
        ...(bound === undefined ? {} : { maxLiveWaitMs: bound }),
      });
      // Steady frames, then a 100 ms stall delivers five at once, then steady again.
      let i = 0;
      const push = () => {
        enqueuedAt[i] = time.now();
        pacer.enqueue(i++);
      };
      for (let n = 0; n < 5; n++) {
        push();
        time.advance(20);
      }
      time.advance(80);
      for (let n = 0; n < 5; n++) push();
      for (let n = 0; n < 20; n++) {
        time.advance(20);
        push();
      }
      time.advance(200);
      expect(sent.map((s) => s.frame)).toEqual([...Array(i).keys()]);
      const waits = sent.map((s) => s.sentAt - (enqueuedAt[s.frame] as number));
      if (bound !== undefined) {
        expect(Math.max(...waits)).toBeLessThanOrEqual(bound);
        // Caught up: a few frames after the burst (the hurry converging), frames go as they arrive.
        expect(waits.slice(14)).toEqual(Array(i - 14).fill(0));
      } else {
        // The hurry alone: the backlog of four (80 ms) is worked off 4 ms a packet, over ~20 packets.
        expect(Math.max(...waits)).toBeGreaterThanOrEqual(60);
        expect(waits.filter((w) => w > 0).length).toBeGreaterThanOrEqual(15);
      }
      expect(
        new Set(sent.slice(1).map((s, k) => s.timestamp - (sent[k] as PacerSend<number>).timestamp)),
      ).toEqual(new Set([960]));
      expect(pacer.dropped).toBe(0);
    }
  });

  it('oldestSince is when the frame at the head was enqueued', () => {
    const time = manualTime(1_000);
    const pacer = new RtpPacer<number>({ ...time, send: () => {}, liveIndex: (f) => f });
    expect(pacer.oldestSince).toBeUndefined();
    pacer.pause();
    pacer.enqueue(0);
    time.advance(20);
    pacer.enqueue(1);
    expect(pacer.oldestSince).toBe(1_000);
    pacer.dropOldest();
    expect(pacer.oldestSince).toBe(1_020);
    pacer.clear();
    expect(pacer.oldestSince).toBeUndefined();
  });

  it('a dropped live frame leaves a timestamp gap (marker set), so receivers see the loss', () => {
    const time = manualTime(1_000);
    const sent: PacerSend<number>[] = [];
    const pacer = new RtpPacer<number>({ ...time, send: (p) => sent.push(p), liveIndex: (f) => f });
    pacer.enqueue(0);
    time.advance(20);
    pacer.enqueue(1);
    pacer.enqueue(2);
    expect(pacer.dropOldest()).toBe(true); // frame 2 waited behind 1... drop the stalest waiting
    time.advance(20);
    pacer.enqueue(3);
    time.advance(40);
    const idx = sent.map((s) => ((s.timestamp - (sent[0] as PacerSend<number>).timestamp) >>> 0) / 960);
    expect(sent.map((s) => s.frame)).toEqual(idx);
    expect(sent.at(-1)?.marker).toBe(true);
    expect(pacer.dropped).toBe(1);
  });
});
