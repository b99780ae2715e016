import { describe, expect, it } from 'vitest';
import { Endpointer } from './endpointer.js';

describe('Endpointer (injected clock)', () => {
  it('starts after startMs of speech in a row; one speech frame is not a turn', () => {
    const e = new Endpointer({ startMs: 60 });
    expect(e.frame(true, 0)).toBeUndefined();
    expect(e.frame(false, 20)).toBeUndefined();
    expect(e.frame(true, 40)).toBeUndefined();
    expect(e.frame(true, 60)).toBeUndefined();
    expect(e.frame(true, 80)).toEqual({ type: 'speech_started', at: 80 });
  });

  it('ends the turn on the clock when frames stop coming (DTX, loss): tick, not a frame count', () => {
    const e = new Endpointer({ hangoverMs: 500 });
    e.frame(true, 0);
    e.frame(true, 20);
    expect(e.speaking).toBe(true);
    // Three silent frames arrive, then nothing.
    e.frame(false, 40);
    e.frame(false, 60);
    e.frame(false, 80);
    expect(e.endDueAt()).toBe(520);
    expect(e.tick(519)).toBeUndefined();
    expect(e.tick(520)).toEqual({ type: 'speech_stopped', at: 520, lastSpeechAt: 20 });
    expect(e.speaking).toBe(false);
    expect(e.endDueAt()).toBeUndefined();
    expect(e.tick(2_000)).toBeUndefined();
  });

  it('a late burst of frames cannot stretch the hangover: the clock, not the frame count, ends it', () => {
    const e = new Endpointer({ hangoverMs: 500 });
    e.frame(true, 0);
    e.frame(true, 20);
    // 30 silent frames (600 ms of media) squeezed into 100 ms of arrival time by a stalled sender...
    for (let i = 0; i < 30; i++) expect(e.frame(false, 20 + i * 3)).toBeUndefined();
    // ...still end the turn 500 ms after the last speech frame arrived.
    expect(e.tick(520)).toMatchObject({ type: 'speech_stopped', lastSpeechAt: 20 });
  });

  it('speech before the hangover runs out keeps the turn open and moves its end', () => {
    const e = new Endpointer({ hangoverMs: 300 });
    e.frame(true, 0);
    e.frame(true, 20);
    e.frame(false, 40);
    expect(e.frame(true, 250)).toBeUndefined();
    expect(e.tick(320)).toBeUndefined();
    expect(e.endDueAt()).toBe(550);
  });

  it('asks the end-of-turn cue once per pause and takes the final hangover when it says final', () => {
    const e = new Endpointer({ hangoverMs: 600, finalHangoverMs: 250 });
    let asked = 0;
    const final = () => {
      asked++;
      return true;
    };
    e.frame(true, 0, final);
    e.frame(true, 20, final);
    expect(asked).toBe(0);
    e.frame(false, 40, final);
    e.frame(false, 60, final);
    expect(asked).toBe(1);
    expect(e.endDueAt()).toBe(270);
    expect(e.tick(269)).toBeUndefined();
    expect(e.tick(270)).toEqual({ type: 'speech_stopped', at: 270, lastSpeechAt: 20 });
  });

  it('keeps the long hangover when the cue says not final, and resets it when speech resumes', () => {
    const e = new Endpointer({ hangoverMs: 600, finalHangoverMs: 250 });
    let answer = false;
    e.frame(true, 0, () => answer);
    e.frame(true, 20, () => answer);
    e.frame(false, 40, () => answer);
    expect(e.endDueAt()).toBe(620);
    // Speech again: the next pause is judged afresh.
    e.frame(true, 300, () => answer);
    answer = true;
    e.frame(false, 320, () => answer);
    expect(e.endDueAt()).toBe(550);
    // Without finalHangoverMs the cue is never consulted.
    const plain = new Endpointer({ hangoverMs: 600 });
    plain.frame(true, 0, () => true);
    plain.frame(true, 20, () => true);
    plain.frame(false, 40, () => true);
    expect(plain.endDueAt()).toBe(620);
  });
});
