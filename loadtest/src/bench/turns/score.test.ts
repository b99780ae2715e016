import { describe, expect, it } from 'vitest';
import type { Track } from './corpus.js';
import { DOUBTED, emptyScore, frameErrors, replay, scoreTrack, summarize } from './score.js';

const P = { startMs: 40, hangoverMs: 300, confirmMs: 200, resumeMs: 100 };

/** Frames (20 ms) from a pattern string: '1' speech, '0' not. */
const frames = (s: string) => Uint8Array.from(s, (c) => (c === '1' ? 1 : 0));

function track(kind: 'turns' | 'barge', labels: string, turns: [number, number][]): Track {
  return {
    id: 't',
    kind,
    noise: 'clean',
    snrDb: null,
    pcm: new Int16Array(labels.length * 320),
    labels: frames(labels),
    turns: turns.map(([start, end]) => ({ start, end })),
    pauses: [],
    distractors: [],
    durationMs: labels.length * 20,
  };
}

describe('turn scoring (replays the real endpointer and barge-in policy)', () => {
  it('counts frames, onset and end-of-turn delay, and a premature end inside a pause', () => {
    // A turn 200-800 ms with a 200 ms pause in it (400-600 ms).
    const truth = `${'0'.repeat(10)}${'1'.repeat(10)}${'0'.repeat(10)}${'1'.repeat(10)}${'0'.repeat(40)}`;
    const t = track('turns', truth, [[200, 800]]);
    const good = emptyScore();
    scoreTrack(t, frames(truth), P, good);
    const g = summarize(good);
    expect(g).toMatchObject({ precision: 1, recall: 1, turns: 1, prematurePct: 0, onsetP50Ms: 40 });
    expect(g.endP50Ms).toBe(300); // 300 ms hangover after the last speech frame ends at 800 ms
    const short = emptyScore();
    scoreTrack(t, frames(truth), { ...P, hangoverMs: 160 }, short);
    expect(summarize(short).prematurePct).toBe(100);
  });

  it('a short blip over the agent is a hold, not a barge-in; long speech is an interruption', () => {
    const blip = `${'0'.repeat(10)}${'1'.repeat(5)}${'0'.repeat(30)}`;
    const ev = replay(frames(blip), P, true);
    expect(ev.interrupts).toEqual([]);
    expect(ev.holds).toHaveLength(1);
    const long = `${'0'.repeat(10)}${'1'.repeat(20)}${'0'.repeat(30)}`;
    const s = emptyScore();
    scoreTrack(track('barge', long, [[200, 600]]), frames(long), P, s);
    const sum = summarize(s);
    expect(sum.falseBargeIns).toBe(0);
    expect(sum.missedInterruptions).toBe(0);
    // Held at the first speech frame (ends 220 ms); 200 ms of speech frames are in by 400 ms.
    expect(sum.bargeDelayP50Ms).toBe(200);
  });

  it('places frame errors: a late onset, a tail, a gap inside, a blip away from speech', () => {
    //        truth: 20 frames of speech at 10-29
    const truth = `${'0'.repeat(10)}${'1'.repeat(20)}${'0'.repeat(30)}`;
    // Decided: 2 frames late, a 1-frame hole at 20, 3 frames of tail, a blip at 50.
    const dec = frames(
      `${'0'.repeat(12)}${'1'.repeat(8)}0${'1'.repeat(9)}111${'0'.repeat(17)}1${'0'.repeat(9)}`,
    );
    expect(frameErrors(track('turns', truth, [[200, 600]]), dec)).toEqual({
      track: 't',
      missedOnset: 2,
      missedOffset: 0,
      missedInside: 1,
      falseTail: 3,
      falseLead: 0,
      falseAway: 1,
    });
  });

  it('doubted speech is speech for turns but does not confirm a barge-in', () => {
    const truth = `${'0'.repeat(10)}${'1'.repeat(30)}${'0'.repeat(30)}`;
    const sure = frames(truth);
    const doubted = sure.map((x) => (x ? DOUBTED : 0));
    expect(replay(sure, P, true).interrupts.length).toBe(1);
    const ev = replay(doubted, P, true);
    expect(ev.starts.length).toBe(1);
    expect(ev.interrupts.length).toBe(0);
  });
});
