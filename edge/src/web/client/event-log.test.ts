import { describe, expect, it } from 'vitest';
import { EventLog, parseAgentEvent } from './event-log.js';

describe('parseAgentEvent', () => {
  it('uses the type field, keeps the sender time stamp apart, and leads with who said what', () => {
    const msg = { type: 'transcript', final: true, text: 'hello there', role: 'user', t: 1520 };
    expect(parseAgentEvent(JSON.stringify(msg), 5)).toEqual({
      at: 5,
      t: 1520,
      type: 'transcript',
      summary: 'role: user · “hello there” · final: true',
      fields: { final: true, text: 'hello there', role: 'user' },
    });
    const latency = { type: 'latency.turn', pipelineMs: 9, totalMs: 412 };
    expect(parseAgentEvent(JSON.stringify(latency), 0)?.summary).toBe('totalMs: 412 · pipelineMs: 9');
  });

  it('a message without a type is still shown', () => {
    expect(parseAgentEvent('{"state":"listening"}', 0)).toEqual({
      at: 0,
      type: 'message',
      summary: 'state: listening',
      fields: { state: 'listening' },
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
