import { describe, expect, it } from 'vitest';
import { OaiEventMapper, type ServerEvent } from './oai-events.js';

function mapper(opts: { canCreateResponse?: boolean } = {}) {
  let clock = 0;
  const counters = new Map<string, number>();
  const m = new OaiEventMapper({
    sessionId: 'abc-session',
    agentName: 'echo',
    canCreateResponse: opts.canCreateResponse ?? false,
    now: () => clock,
    newId: (prefix) => {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}_${n}`;
    },
  });
  return { m, advance: (ms: number) => (clock += ms) };
}

const types = (events: ServerEvent[]) => events.map((e) => e.type);
const client = (m: OaiEventMapper, e: unknown) => m.fromClient(JSON.stringify(e));

describe('Realtime session events', () => {
  it('announces the session with the agent as model and server VAD, each event with its own id', () => {
    const { m } = mapper();
    const [created] = m.sessionCreated();
    expect(created).toMatchObject({
      type: 'session.created',
      session: {
        type: 'realtime',
        id: 'abc-session',
        model: 'echo',
        audio: { input: { turn_detection: { type: 'server_vad' } } },
      },
    });
    expect(created?.event_id).toBe('event_1');
    expect(m.sessionCreated()[0]?.event_id).toBe('event_2');
  });

  it('session.update merges instructions and turn detection (GA and beta places) and answers session.updated', () => {
    const { m } = mapper();
    const r = client(m, {
      type: 'session.update',
      event_id: 'c1',
      session: {
        type: 'realtime',
        model: 'gpt-realtime',
        instructions: 'be brief',
        audio: {
          input: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } },
          output: { voice: 'marin' },
        },
        tools: [{ type: 'function', name: 'lookup' }],
      },
    });
    expect(types(r.events)).toEqual(['session.updated']);
    const session = r.events[0]?.session as Record<string, unknown>;
    // The model stays the agent this call runs; everything else is taken.
    expect(session).toMatchObject({
      model: 'echo',
      instructions: 'be brief',
      audio: {
        input: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } },
        output: { voice: 'marin' },
      },
      tools: [{ type: 'function', name: 'lookup' }],
    });
    expect(r.actions).toEqual([{ kind: 'configure', session }]);

    // A later update keeps what it does not mention; the beta top-level turn_detection lands in audio.input.
    const r2 = client(m, { type: 'session.update', session: { turn_detection: null } });
    expect(r2.events[0]?.session).toMatchObject({
      instructions: 'be brief',
      audio: { input: { turn_detection: null }, output: { voice: 'marin' } },
    });
  });

  it('refuses malformed session.update with invalid_request_error naming the parameter and the client event', () => {
    const { m } = mapper();
    const cases: [unknown, string][] = [
      [{ type: 'session.update' }, 'session'],
      [{ type: 'session.update', session: { type: 'transcription' } }, 'session.type'],
      [{ type: 'session.update', session: { instructions: 7 } }, 'session.instructions'],
      [
        { type: 'session.update', session: { audio: { input: { turn_detection: { type: 'always' } } } } },
        'session.audio.input.turn_detection',
      ],
      [{ type: 'session.update', session: { tools: {} } }, 'session.tools'],
    ];
    for (const [event, param] of cases) {
      const r = client(m, { ...(event as object), event_id: 'bad' });
      expect(r.actions, param).toEqual([]);
      expect(r.events, param).toEqual([
        expect.objectContaining({
          type: 'error',
          error: expect.objectContaining({ type: 'invalid_request_error', param, event_id: 'bad' }),
        }),
      ]);
    }
    // Nothing was applied.
    expect(m.sessionConfig.instructions).toBe('');
  });

  it('answers unknown types, non-JSON and typeless events with errors, never throwing', () => {
    const { m } = mapper();
    const unknown = client(m, { type: 'session.destroy', event_id: 'x' });
    expect(unknown.events[0]).toMatchObject({
      type: 'error',
      error: { code: 'invalid_value', param: 'type', event_id: 'x' },
    });
    expect(JSON.stringify(unknown.events[0])).toContain('session.update');
    expect(m.fromClient('{not json').events[0]).toMatchObject({ error: { code: 'invalid_json' } });
    expect(m.fromClient('[1,2]').events[0]).toMatchObject({ error: { code: 'invalid_json' } });
    expect(client(m, { event_id: 'y' }).events[0]).toMatchObject({
      error: { code: 'missing_required_parameter', param: 'type', event_id: 'y' },
    });
    expect(m.fromClient('x'.repeat(300 * 1024)).events[0]).toMatchObject({
      error: { code: 'invalid_value' },
    });
    // Audio comes over RTP: buffer appends are refused, a clear is harmless.
    expect(client(m, { type: 'input_audio_buffer.append', audio: 'AAAA' }).events[0]).toMatchObject({
      error: { code: 'unsupported_over_webrtc' },
    });
    expect(types(client(m, { type: 'input_audio_buffer.clear' }).events)).toEqual([
      'input_audio_buffer.cleared',
    ]);
  });
});

describe('user turns', () => {
  it('maps VAD start/stop to speech_started/stopped, a committed user item, and the transcript to transcription.completed', () => {
    const { m, advance } = mapper();
    advance(1_000);
    const started = m.fromParley({ type: 'speech.started' });
    expect(started).toEqual([
      {
        type: 'input_audio_buffer.speech_started',
        event_id: 'event_1',
        item_id: 'item_1',
        audio_start_ms: 1_000,
      },
    ]);
    advance(1_500);
    const stopped = m.fromParley({ type: 'speech.stopped' });
    expect(types(stopped)).toEqual([
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'conversation.item.added',
      'conversation.item.done',
    ]);
    expect(stopped[0]).toMatchObject({ item_id: 'item_1', audio_end_ms: 2_500 });
    expect(stopped[2]).toMatchObject({
      item: { id: 'item_1', role: 'user', type: 'message' },
      previous_item_id: null,
    });

    const t = m.fromParley({ type: 'transcript', role: 'user', text: 'hello there', final: true });
    expect(t).toEqual([
      expect.objectContaining({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: 'item_1',
        content_index: 0,
        transcript: 'hello there',
      }),
    ]);
    // The SDK retrieves the item after a transcription: it carries the transcript.
    const got = client(m, { type: 'conversation.item.retrieve', item_id: 'item_1' });
    expect(got.events[0]).toMatchObject({
      type: 'conversation.item.retrieved',
      item: { id: 'item_1', content: [{ type: 'input_audio', transcript: 'hello there' }] },
    });
    expect(client(m, { type: 'conversation.item.retrieve', item_id: 'nope' }).events[0]).toMatchObject({
      error: { code: 'item_not_found', param: 'item_id' },
    });
  });

  it('gives a transcript that arrives without a VAD turn an item of its own', () => {
    const { m } = mapper();
    const out = m.fromParley({ type: 'transcript', role: 'user', text: 'hi', final: false });
    expect(types(out)).toEqual([
      'conversation.item.added',
      'conversation.item.done',
      'conversation.item.input_audio_transcription.delta',
    ]);
    expect(out[2]).toMatchObject({ item_id: 'item_1', delta: 'hi' });
  });
});

describe('agent responses', () => {
  it('frames a response: created, output item, transcript deltas and done, then response.done with the transcript', () => {
    const { m } = mapper();
    const start = m.fromParley({ type: 'response.started' });
    expect(types(start)).toEqual([
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
    ]);
    expect(start[0]).toMatchObject({
      response: { id: 'resp_1', status: 'in_progress', object: 'realtime.response' },
    });
    expect(m.activeResponseId).toBe('resp_1');

    const d1 = m.fromParley({ type: 'transcript', role: 'agent', text: 'Hel', final: false });
    const d2 = m.fromParley({ type: 'transcript', role: 'agent', text: 'lo', final: false });
    expect(d1[0]).toMatchObject({
      type: 'response.output_audio_transcript.delta',
      response_id: 'resp_1',
      item_id: 'item_1',
      output_index: 0,
      content_index: 0,
      delta: 'Hel',
    });
    expect(d2[0]).toMatchObject({ delta: 'lo' });
    const done = m.fromParley({ type: 'transcript', role: 'agent', text: 'Hello', final: true });
    expect(done[0]).toMatchObject({ type: 'response.output_audio_transcript.done', transcript: 'Hello' });

    const end = m.fromParley({ type: 'response.done', status: 'completed' });
    expect(types(end)).toEqual([
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    expect(end[3]).toMatchObject({
      response: {
        id: 'resp_1',
        status: 'completed',
        output: [
          { id: 'item_1', role: 'assistant', status: 'completed', content: [{ transcript: 'Hello' }] },
        ],
      },
    });
    expect(m.activeResponseId).toBeUndefined();
    // A second done (an agent repeating itself) adds nothing.
    expect(m.fromParley({ type: 'response.done', status: 'completed' })).toEqual([]);
  });

  it('reports a cancelled response as incomplete with why', () => {
    const { m } = mapper();
    m.fromParley({ type: 'response.started' });
    const end = m.fromParley({ type: 'response.done', status: 'cancelled' });
    expect(end.at(-1)).toMatchObject({
      response: {
        status: 'cancelled',
        status_details: { type: 'cancelled' },
        output: [{ status: 'incomplete' }],
      },
    });
  });

  it('opens a response for agent transcripts that come without one', () => {
    const { m } = mapper();
    const out = m.fromParley({ type: 'transcript', role: 'agent', text: 'Hi', final: false });
    expect(types(out)[0]).toBe('response.created');
    expect(out.at(-1)).toMatchObject({
      type: 'response.output_audio_transcript.delta',
      response_id: 'resp_1',
    });
  });

  it('maps the agent speaking and barge-in to output_audio_buffer started/stopped/cleared, once per change', () => {
    const { m } = mapper();
    m.fromParley({ type: 'response.started' });
    expect(m.fromParley({ type: 'agent.state', state: 'speaking' })).toEqual([
      expect.objectContaining({ type: 'output_audio_buffer.started', response_id: 'resp_1' }),
    ]);
    expect(m.fromParley({ type: 'agent.state', state: 'speaking' })).toEqual([]);
    expect(types(m.fromParley({ type: 'agent.state', state: 'listening' }))).toEqual([
      'output_audio_buffer.stopped',
    ]);
    expect(m.fromParley({ type: 'barge_in', droppedFrames: 3, detectMs: 40 })[0]).toMatchObject({
      type: 'output_audio_buffer.cleared',
      response_id: 'resp_1',
    });
    // Latency reports have no Realtime name.
    expect(m.fromParley({ type: 'latency.pipeline', frames: 1, p50Ms: 1, p95Ms: 1 })).toEqual([]);
  });
});

describe('client control of responses and conversation', () => {
  it('response.create: an error for agents that cannot start one, an action for those that can, refused while one runs', () => {
    const echo = mapper().m;
    expect(client(echo, { type: 'response.create', event_id: 'r' }).events[0]).toMatchObject({
      error: { code: 'unsupported_by_agent', event_id: 'r' },
    });
    const { m } = mapper({ canCreateResponse: true });
    const r = client(m, { type: 'response.create', response: { instructions: 'say hi' } });
    expect(r).toEqual({
      events: [],
      actions: [{ kind: 'create_response', response: { instructions: 'say hi' } }],
    });
    m.fromParley({ type: 'response.started' });
    expect(client(m, { type: 'response.create' }).events[0]).toMatchObject({
      error: { code: 'conversation_already_has_active_response' },
    });
    expect(client(m, { type: 'response.create', response: 'x' }).events[0]).toMatchObject({ type: 'error' });
  });

  it('response.cancel and output_audio_buffer.clear stop an active response; cancel without one is an error', () => {
    const { m } = mapper();
    expect(client(m, { type: 'response.cancel' }).events[0]).toMatchObject({
      error: { code: 'response_cancel_not_active' },
    });
    expect(client(m, { type: 'output_audio_buffer.clear' })).toMatchObject({ actions: [] });
    m.fromParley({ type: 'response.started' });
    expect(client(m, { type: 'response.cancel', response_id: 'resp_other' }).events[0]).toMatchObject({
      error: { param: 'response_id' },
    });
    expect(client(m, { type: 'response.cancel', response_id: 'resp_1' })).toEqual({
      events: [],
      actions: [{ kind: 'cancel_response' }],
    });
    const clear = client(m, { type: 'output_audio_buffer.clear' });
    expect(types(clear.events)).toEqual(['output_audio_buffer.cleared']);
    expect(clear.actions).toEqual([{ kind: 'cancel_response' }]);
  });

  it('conversation.item.create takes a tool result into the conversation and hands it to the agent', () => {
    const { m } = mapper();
    const r = client(m, {
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: 'call_7', output: '{"temp":21}' },
    });
    expect(types(r.events)).toEqual(['conversation.item.added', 'conversation.item.done']);
    const item = r.events[0]?.item as Record<string, unknown>;
    expect(item).toMatchObject({
      id: 'item_1',
      type: 'function_call_output',
      call_id: 'call_7',
      output: '{"temp":21}',
    });
    expect(r.actions).toEqual([{ kind: 'add_item', item }]);
    // Truncate and delete work on known items only.
    expect(
      client(m, {
        type: 'conversation.item.truncate',
        item_id: 'item_1',
        content_index: 0,
        audio_end_ms: 120,
      }).events[0],
    ).toMatchObject({
      type: 'conversation.item.truncated',
      audio_end_ms: 120,
    });
    expect(client(m, { type: 'conversation.item.truncate', item_id: 'item_1' }).events[0]).toMatchObject({
      error: { param: 'audio_end_ms' },
    });
    expect(types(client(m, { type: 'conversation.item.delete', item_id: 'item_1' }).events)).toEqual([
      'conversation.item.deleted',
    ]);
    expect(client(m, { type: 'conversation.item.delete', item_id: 'item_1' }).events[0]).toMatchObject({
      error: { code: 'item_not_found' },
    });
  });

  it('refuses invalid items: no call_id, non-string output, unknown type or role, duplicate id', () => {
    const { m } = mapper();
    const bad = [
      { type: 'function_call_output', output: 'x' },
      { type: 'function_call_output', call_id: 'c', output: { a: 1 } },
      { type: 'image' },
      { type: 'message', role: 'robot', content: [] },
      { type: 'message', role: 'user', content: 'hi' },
    ];
    for (const item of bad) {
      const r = client(m, { type: 'conversation.item.create', item });
      expect(r.actions, JSON.stringify(item)).toEqual([]);
      expect(r.events[0]?.type, JSON.stringify(item)).toBe('error');
    }
    const msg = { type: 'message', id: 'mine', role: 'user', content: [{ type: 'input_text', text: 'hi' }] };
    expect(client(m, { type: 'conversation.item.create', item: msg }).actions).toHaveLength(1);
    expect(client(m, { type: 'conversation.item.create', item: msg }).events[0]).toMatchObject({
      error: { code: 'item_already_exists' },
    });
  });
});
