import { describe, expect, it } from 'vitest';
import { EventLog, parseAgentEvent } from './event-log.js';

describe('parseAgentEvent', () => {
  it('uses the type field and leads the summary with transcript text, then the rest', () => {
    expect(
      parseAgentEvent(JSON.stringify({ type: 'transcript', final: true, text: 'hello there' }), 5),
    ).toEqual({ at: 5, type: 'transcript', summary: '“hello there” · final: true' });
    expect(
      parseAgentEvent(JSON.stringify({ type: 'latency', ms: 412, stage: 'first-audio' }), 0)?.summary,
    ).toBe('ms: 412 · stage: first-audio');
  });

  it('a message without a type is still shown', () => {
    expect(parseAgentEvent('{"state":"listening"}', 0)).toEqual({
      at: 0,
      type: 'message',
      summary: 'state: listening',
    });
  });

  it('rejects what is not a JSON object', () => {
    for (const bad of ['not json', '[1,2]', '42', 'null', new ArrayBuffer(4), undefined]) {
      expect(parseAgentEvent(bad, 0)).toBeUndefined();
    }
  });

  it('cuts long summaries to one line', () => {
    const e = parseAgentEvent(JSON.stringify({ type: 't', text: 'x'.repeat(500) }), 0);
    expect(e?.summary).toHaveLength(160);
    expect(e?.summary.endsWith('…')).toBe(true);
  });
});

describe('EventLog', () => {
  it('keeps the newest first, bounded, and counts unreadable messages', () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.receive(JSON.stringify({ type: `e${i}` }), i);
    expect(log.receive('garbage', 9)).toBeUndefined();
    expect(log.items().map((e) => e.type)).toEqual(['e4', 'e3', 'e2']);
    expect(log.malformed).toBe(1);
    log.clear();
    expect(log.items()).toEqual([]);
    expect(log.malformed).toBe(0);
  });
});
