import type { AddressInfo } from 'node:net';
import { createLogger } from '@parley/shared/log.js';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Agent, AgentEvent } from '../agent/agent.js';
import { realtimeAgent } from '../agent/realtime/realtime-agent.js';
import type { RealtimeSessionConfig } from './oai-events.js';
import { type OaiChannel, OaiEventsChannel } from './oai-events-channel.js';
import { upstreamItemCreate, upstreamSessionUpdate } from './upstream-events.js';

const log = createLogger('t', 'silent');

/** A Realtime-style upstream on a real loopback socket that records what the bridge sends it. */
async function upstream() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const received: { type: string; [k: string]: unknown }[] = [];
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'session.created', session: {} }));
    ws.on('message', (d) => {
      const e = JSON.parse(d.toString());
      received.push(e);
      if (e.type === 'session.update')
        ws.send(JSON.stringify({ type: 'session.updated', session: e.session }));
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return { url: `ws://127.0.0.1:${port}/v1/realtime`, received, close: () => wss.close() };
}

/** The oai-events side, in memory: the test plays the client. */
function memoryChannel() {
  let onMessage: (t: string) => void = () => {};
  const sent: { type: string; [k: string]: unknown }[] = [];
  const channel: OaiChannel = {
    open: true,
    send: (t) => sent.push(JSON.parse(t)),
    onOpen: (fn) => fn(),
    onMessage: (fn) => {
      onMessage = fn;
    },
  };
  return { channel, sent, client: (e: unknown) => onMessage(JSON.stringify(e)) };
}

describe('Realtime client events reach the realtime agent’s upstream', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('passes instructions, turn detection, tools, response.create and tool results through, keeping the bridge’s audio format', async () => {
    const up = await upstream();
    cleanup.push(up.close);
    const events: AgentEvent[] = [];
    const agent = realtimeAgent({ url: up.url, log })(
      { audio: () => {}, event: (e) => events.push(e), end: () => {} },
      { sessionId: 's1', sendRtpPayload: () => {} },
    ) as Agent;
    cleanup.push(() => agent.close());
    await agent.ready?.();
    const setup = up.received.length; // the bridge's own session.update

    const { channel, sent, client } = memoryChannel();
    new OaiEventsChannel({ sessionId: 's1', agent, channel, now: () => 0, log });
    expect(sent[0]).toMatchObject({ type: 'session.created', session: { model: 'realtime' } });

    client({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'Be brief.',
        audio: {
          input: { format: { type: 'audio/pcm', rate: 16000 }, turn_detection: { type: 'semantic_vad' } },
          output: { voice: 'marin' },
        },
        tools: [{ type: 'function', name: 'weather', parameters: {} }],
      },
    });
    client({ type: 'response.create', response: { instructions: 'Say hi.' } });
    client({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' },
    });
    await expect.poll(() => up.received.length).toBe(setup + 3);
    const [update, create, item] = up.received.slice(setup);
    expect(update).toEqual({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'Be brief.',
        tools: [{ type: 'function', name: 'weather', parameters: {} }],
        tool_choice: 'auto',
        audio: {
          // The client's 16 kHz is its track's business: the bridge decodes 24 kHz PCM.
          input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: { type: 'semantic_vad' } },
          output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin' },
        },
      },
    });
    expect(create).toEqual({ type: 'response.create', response: { instructions: 'Say hi.' } });
    expect(item).toMatchObject({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' },
    });
    expect(JSON.stringify(item)).not.toContain('realtime.item');
    // The client heard back from Parley for each.
    expect(sent.map((e) => e.type)).toEqual([
      'session.created',
      'session.updated',
      'conversation.item.added',
      'conversation.item.done',
    ]);
  });

  it('turn detection switched off (null) is passed on as null, so the client drives turns', () => {
    const s = {
      instructions: '',
      tools: [],
      tool_choice: 'auto',
      audio: { input: { turn_detection: null }, output: {} },
    } as unknown as RealtimeSessionConfig;
    expect(upstreamSessionUpdate(s)).toMatchObject({
      session: { audio: { input: { turn_detection: null } } },
    });
    expect(
      upstreamItemCreate({ id: 'i', type: 'message', object: 'realtime.item', status: 'completed' }),
    ).toEqual({
      type: 'conversation.item.create',
      item: { id: 'i', type: 'message' },
    });
  });
});
