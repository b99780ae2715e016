import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCorpus, FRAME, FRAME_MS, labelFrames } from './corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-corpus-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('turn-taking corpus (espeak-ng + sox, seeded)', () => {
  it('labels frames from the clean speech, bridging short gaps only', () => {
    const x = new Float32Array(FRAME * 20);
    const on = (f: number) => x.fill(8_000, f * FRAME, (f + 1) * FRAME);
    [2, 3, 6, 14].forEach(on); // gap of 2 frames (40 ms) is bridged, gap of 7 (140 ms) is not
    expect(Array.from(labelFrames(x, 20)).join('')).toBe('00111110000000100000');
  });

  it('is the same twice from one seed; truth lines up with the audio', () => {
    const opts = { dir, snrs: [10], noises: ['white', 'babble'] as const, turnSeconds: 20, bargeSeconds: 20 };
    const a = buildCorpus(opts);
    const b = buildCorpus(opts);
    expect(a.tracks.map((t) => t.id)).toEqual([
      'turns/clean',
      'turns/white/10dB',
      'turns/babble/10dB',
      'barge/clean',
      'barge/white/10dB',
      'barge/babble/10dB',
    ]);
    for (let i = 0; i < a.tracks.length; i++) expect(a.tracks[i]?.pcm).toEqual(b.tracks[i]?.pcm);
    const turns = a.tracks[0];
    expect(turns?.turns.length).toBeGreaterThanOrEqual(3);
    for (const t of turns?.turns ?? []) {
      // Each turn's first and last frames are labelled speech; the frame before it is not.
      const f0 = Math.floor(t.start / FRAME_MS);
      expect(turns?.labels.slice(f0, f0 + 3)).toContain(1);
      expect(turns?.labels[f0 - 2]).toBe(0);
      // Its audio is louder than the silence before it.
      const seg = turns?.pcm.subarray(Math.floor(t.start * 16), Math.floor(t.end * 16)) ?? new Int16Array();
      expect(Math.max(...seg.map(Math.abs))).toBeGreaterThan(3_000);
    }
    const barge = a.tracks[3];
    expect(barge?.distractors.length).toBeGreaterThan(2);
    expect(barge?.distractors.some((d) => d.kind === 'backchannel')).toBe(true);
    // Backchannels are a syllable or two (espeak spelt "mm-hm" out as letters: 0.7-0.9 s).
    for (const d of barge?.distractors.filter((x) => x.kind === 'backchannel') ?? [])
      expect(d.end - d.start).toBeLessThan(700);
  }, 60_000);
});
