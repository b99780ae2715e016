import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowJournalError, JournalFlowCacheStore, replayFlowJournal } from './flow-journal.js';

describe('replayFlowJournal', () => {
  it('keeps the newest change per client, drops deleted and expired ones, and counts malformed lines', () => {
    const text = [
      '+ 10.0.0.1:5000 1000 tokA',
      '+ 10.0.0.2:5000 1000 tokB',
      '+ 10.0.0.1:5000 9000 tokA2',
      '- 10.0.0.2:5000',
      '+ 10.0.0.3:5000 100 old',
      'garbage',
      '+ 10.0.0.4:5000 notanumber tok',
      '+ 10.0.0.5:50', // torn by a crash mid-write
    ].join('\n');
    const { entries, malformed } = replayFlowJournal(text, 10_000, 5_000);
    expect([...entries]).toEqual([['10.0.0.1:5000', { token: 'tokA2', at: 9000 }]]);
    expect(malformed).toBe(3);
  });
});

describe('JournalFlowCacheStore', () => {
  let dir: string;
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-flow-journal-'));
    now = 1_000_000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a second store on the same file (the restarted relay) sees the first one’s live entries at once', async () => {
    const path = join(dir, 'sub', 'flows');
    const a = new JournalFlowCacheStore(path, 30_000, clock);
    await a.put('127.0.0.1:4000', 'tok1');
    await a.put('127.0.0.1:4001', 'tok2');
    await a.delete('127.0.0.1:4001');
    // No close: a SIGKILLed relay closes nothing.
    now += 5_000;
    const b = new JournalFlowCacheStore(path, 30_000, clock);
    expect(b.recoveredAtOpen).toBe(1);
    expect(b.peek('127.0.0.1:4000')).toBe('tok1');
    expect(await b.get('127.0.0.1:4001')).toBeUndefined();
    // Opening rewrote the file with the live entries only.
    expect(readFileSync(path, 'utf8')).toBe(`+ 127.0.0.1:4000 1000000 tok1\n`);
    await a.close();
    await b.close();
  });

  it('forgets entries older than the TTL, as the KV bucket expires them', async () => {
    const path = join(dir, 'flows');
    const a = new JournalFlowCacheStore(path, 30_000, clock);
    await a.put('127.0.0.1:4000', 'tok1');
    now += 30_001;
    expect(a.peek('127.0.0.1:4000')).toBeUndefined();
    expect(new JournalFlowCacheStore(path, 30_000, clock).recoveredAtOpen).toBe(0);
  });

  it('refuses words that would corrupt the file, and skips a foreign file’s lines', async () => {
    const path = join(dir, 'flows');
    writeFileSync(path, 'not a journal\n+ 1.2.3.4:5 1000000 ok\n');
    const a = new JournalFlowCacheStore(path, 30_000, clock);
    expect(a.malformedAtOpen).toBe(1);
    expect(a.peek('1.2.3.4:5')).toBe('ok');
    await a.put('1.2.3.4:6', 'two words');
    await a.put('1.2.3.4:7\n', 'tok');
    expect(a.peek('1.2.3.4:6')).toBeUndefined();
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    await a.close();
  });

  it('rewrites itself when changes outnumber the live entries, keeping them all', async () => {
    const path = join(dir, 'flows');
    const a = new JournalFlowCacheStore(path, 30_000, clock);
    for (let i = 0; i < 3_000; i++) await a.put('127.0.0.1:4000', `tok${i}`);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(1_100);
    expect(new JournalFlowCacheStore(path, 30_000, clock).peek('127.0.0.1:4000')).toBe('tok2999');
    await a.close();
  });

  it('a journal it cannot write is a FlowJournalError (the relay runs without it)', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    // A path under a regular file cannot be created.
    expect(() => new JournalFlowCacheStore(join(file, 'flows'), 30_000, clock)).toThrow(FlowJournalError);
  });
});
