import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.js';
import { parseAgentEvent } from './event-log.js';

const ev = (o: Record<string, unknown>) =>
  parseAgentEvent(JSON.stringify(o), 0) as NonNullable<ReturnType<typeof parseAgentEvent>>;

describe('Conversation', () => {
  it('follows the agent state and the caller speaking', () => {
    const c = new Conversation();
    expect(c.apply(ev({ type: 'speech.started', t: 100 }))).toBe(true);
    expect(c.userSpeaking).toBe(true);
    c.apply(ev({ type: 'speech.stopped' }));
    expect(c.userSpeaking).toBe(false);
    c.apply(ev({ type: 'agent.state', state: 'thinking' }));
    expect(c.state).toBe('thinking');
    expect(c.reportsState).toBe(true);
    expect(c.apply(ev({ type: 'agent.state', state: 'dancing' }))).toBe(false);
    expect(c.state).toBe('thinking');
  });

  it('keeps final transcript lines in order and replaces a partial with its next version', () => {
    const c = new Conversation();
    c.apply(ev({ type: 'transcript', role: 'user', text: 'hel', final: false, t: 1 }));
    c.apply(ev({ type: 'transcript', role: 'user', text: 'hello there', final: true, t: 2 }));
    c.apply(ev({ type: 'transcript', role: 'agent', text: 'hi!', final: true, t: 3 }));
    expect(c.items()).toEqual([
      { role: 'user', text: 'hello there', final: true, t: 2 },
      { role: 'agent', text: 'hi!', final: true, t: 3 },
    ]);
    expect(c.apply(ev({ type: 'transcript', role: 'system', text: 'x' }))).toBe(false);
    expect(c.apply(ev({ type: 'transcript', role: 'agent', text: '' }))).toBe(false);
  });

  it('puts the text of an interrupted reply that arrives after the barge-in before its mark', () => {
    const c = new Conversation();
    c.apply(ev({ type: 'transcript', role: 'user', text: 'question', t: 1 }));
    c.apply(ev({ type: 'barge_in', t: 5 }));
    c.apply(ev({ type: 'transcript', role: 'agent', text: 'the answ', final: true, t: 6 }));
    c.apply(ev({ type: 'transcript', role: 'user', text: 'next', t: 7 }));
    expect(c.items().map((i) => i.role)).toEqual(['user', 'agent', 'barge-in', 'user']);
  });

  it('marks barge-ins between lines and records each turn’s first-reply latency', () => {
    const c = new Conversation();
    c.apply(ev({ type: 'latency.turn', totalMs: 640.5 }));
    c.apply(ev({ type: 'barge_in', t: 5000, droppedFrames: 40 }));
    c.apply(ev({ type: 'latency.turn', totalMs: 512 }));
    expect(c.apply(ev({ type: 'latency.turn', totalMs: -1 }))).toBe(false);
    expect(c.firstReplyMs).toEqual([640.5, 512]);
    expect(c.lastFirstReplyMs).toBe(512);
    expect(c.bargeIns).toBe(1);
    expect(c.items()).toEqual([{ role: 'barge-in', t: 5000, droppedFrames: 40 }]);
    c.clear();
    expect(c.items()).toEqual([]);
    expect(c.lastFirstReplyMs).toBeUndefined();
  });
});
