import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import {
  RealtimeControlReply,
  type RealtimeControlRequest,
  RealtimeEventEnvelope,
  realtimeControlSubject,
  realtimeEventsSubject,
} from '@parley/shared/nats/realtime-subjects.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoAgent } from '../agent/echo-agent.js';
import { type OaiChannel, OaiEventsChannel } from './oai-events-channel.js';
import { OaiSidebandHub } from './oai-sideband-hub.js';

const log = createLogger('t', 'silent');
const TX = 'tx-hub-test';

function memoryChannel() {
  const sent: { type: string; [k: string]: unknown }[] = [];
  const channel: OaiChannel = {
    open: true,
    send: (t) => sent.push(JSON.parse(t)),
    onOpen: (fn) => fn(),
    onMessage: () => {},
  };
  return { channel, sent };
}

function echo() {
  return new EchoAgent({ audio: () => {}, event: () => {}, end: () => {} });
}

// The transceiver's end of the sideband over a real nats-server: control requests in, events out.
describe('OaiSidebandHub over NATS', () => {
  let nats: NatsServerProcess;
  let tx: NatsConnection;
  let edge: NatsConnection;
  let clock = 0;
  let hub: OaiSidebandHub;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    [tx, edge] = await Promise.all([connect({ servers: nats.url }), connect({ servers: nats.url })]);
    hub = new OaiSidebandHub(tx, TX, log, () => clock);
    await tx.flush();
  });

  afterAll(async () => {
    hub?.stop();
    await tx?.close();
    await edge?.close();
    await nats?.stop();
  });

  async function control(body: unknown) {
    const msg = await edge.request(realtimeControlSubject(TX), encodeJson(body), { timeout: 2_000 });
    return decodeJson(RealtimeControlReply, msg.data);
  }

  it('runs a client event on the session and publishes the answer on the session’s subject; the end is the last message', async () => {
    const sessionId = 'aaaaaaaaaaaa-sessionOne';
    const got: RealtimeEventEnvelope[] = [];
    const sub = edge.subscribe(realtimeEventsSubject(sessionId), {
      callback: (_e, m) => {
        got.push(decodeJson(RealtimeEventEnvelope, m.data));
      },
    });
    await edge.flush();
    const { channel, sent } = memoryChannel();
    const oai = new OaiEventsChannel({ sessionId, agent: echo(), channel, sideband: hub, now: () => 0, log });
    const req: RealtimeControlRequest = {
      sessionId,
      event: { type: 'session.update', session: { instructions: 'From the server.' } },
    };
    expect(await control(req)).toEqual({ ok: true });
    await expect.poll(() => got.length).toBe(2);
    expect(got[0]).toMatchObject({ event: { type: 'session.created' } });
    expect(got[1]).toMatchObject({
      event: { type: 'session.updated', session: { instructions: 'From the server.' } },
    });
    // The call's own client sees the same events.
    expect(sent.map((e) => e.type)).toEqual(['session.created', 'session.updated']);

    oai.close('deleted');
    await expect.poll(() => got.at(-1)).toEqual({ ended: 'deleted' });
    // Gone from the hub: later control requests are not_found.
    expect(await control(req)).toMatchObject({ ok: false, code: 'not_found' });
    sub.unsubscribe();
  });

  it('answers not_found for unknown sessions and bad_request for malformed requests, never silence', async () => {
    expect(await control({ sessionId: 'nobody', event: { type: 'response.create' } })).toMatchObject({
      ok: false,
      code: 'not_found',
    });
    const before = hub.rejected;
    expect(await control({ sessionId: 'x', event: { nope: 1 } })).toMatchObject({
      ok: false,
      code: 'bad_request',
    });
    const raw = await edge.request(realtimeControlSubject(TX), new TextEncoder().encode('not json'), {
      timeout: 2_000,
    });
    expect(decodeJson(RealtimeControlReply, raw.data)).toMatchObject({ ok: false, code: 'bad_request' });
    expect(hub.rejected).toBe(before + 2);
  });

  it('holds a client secret’s initial settings until the call’s channel opens, applies them before session.created, once', async () => {
    const sessionId = 'aaaaaaaaaaaa-sessionTwo';
    const initial: RealtimeControlRequest = {
      sessionId,
      event: { type: 'session.update', session: { type: 'realtime', instructions: 'From the secret.' } },
      initial: true,
    };
    expect(await control(initial)).toEqual({ ok: true });
    const first = memoryChannel();
    const a = new OaiEventsChannel({
      sessionId,
      agent: echo(),
      channel: first.channel,
      sideband: hub,
      now: () => 0,
      log,
    });
    expect(first.sent).toEqual([
      expect.objectContaining({
        type: 'session.created',
        session: expect.objectContaining({ instructions: 'From the secret.' }),
      }),
    ]);
    a.close('deleted');
    // Taken: a later channel for the same id starts from the defaults.
    const second = memoryChannel();
    new OaiEventsChannel({
      sessionId,
      agent: echo(),
      channel: second.channel,
      sideband: hub,
      now: () => 0,
      log,
    }).close('deleted');
    expect(second.sent[0]).toMatchObject({ type: 'session.created', session: { instructions: '' } });
  });

  it('forgets held settings of calls whose channel never opened after 30 s', async () => {
    const stale = 'aaaaaaaaaaaa-staleCall';
    const hold = (sessionId: string) =>
      control({
        sessionId,
        event: { type: 'session.update', session: { instructions: sessionId } },
        initial: true,
      });
    await hold(stale);
    clock += 31_000;
    await hold('aaaaaaaaaaaa-freshCall');
    expect(hub.takeInitial(stale)).toBeUndefined();
    expect(hub.takeInitial('aaaaaaaaaaaa-freshCall')).toMatchObject({
      session: { instructions: 'aaaaaaaaaaaa-freshCall' },
    });
  });
});
