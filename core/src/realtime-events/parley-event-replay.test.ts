import { describe, expect, it } from 'vitest';
import { ParleyEventReplay } from './parley-event-replay.js';

describe('ParleyEventReplay', () => {
  it('replays nothing for a quiet session', () => {
    expect(new ParleyEventReplay().current()).toEqual([]);
  });

  it('replays a turn and a reply under way, and the agent’s latest state', () => {
    const r = new ParleyEventReplay();
    r.observe({ type: 'agent.state', state: 'thinking' });
    r.observe({ type: 'speech.started' });
    r.observe({ type: 'response.started' });
    r.observe({ type: 'agent.state', state: 'speaking' });
    expect(r.current()).toEqual([
      { type: 'speech.started' },
      { type: 'response.started' },
      { type: 'agent.state', state: 'speaking' },
    ]);
  });

  it('forgets turns and replies that ended', () => {
    const r = new ParleyEventReplay();
    r.observe({ type: 'speech.started' });
    r.observe({ type: 'speech.stopped' });
    r.observe({ type: 'response.started' });
    r.observe({ type: 'response.done', status: 'completed' });
    r.observe({ type: 'agent.state', state: 'listening' });
    expect(r.current()).toEqual([{ type: 'agent.state', state: 'listening' }]);
  });
});
