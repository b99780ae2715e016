import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import {
  type RealtimeControlReply,
  RealtimeControlRequest,
  type RealtimeEventEnvelope,
  realtimeControlSubject,
  realtimeEventsSubject,
} from '@parley/shared/nats/realtime-subjects.js';
import type { OaiEventsChannel, OaiSideband } from './oai-events-channel.js';

/** A call's client connects within the transceiver's ICE timeout or not at all. */
const INITIAL_HOLD_MS = 30_000;
const MAX_HELD = 1_000;

/**
 * The transceiver's end of the Realtime sideband: client events an edge
 * relays from an application's control WebSocket come in by request/reply on
 * this transceiver's subject; every session's server events go out on the
 * session's own subject, so whichever edge holds the WebSocket can watch.
 */
export class OaiSidebandHub implements OaiSideband {
  private readonly channels = new Map<string, OaiEventsChannel>();
  /** Initial session settings waiting for their call's channel, oldest first. */
  private readonly initial = new Map<string, { event: Record<string, unknown>; at: number }>();
  private readonly sub: Subscription;
  /** Control requests that did not decode. */
  rejected = 0;

  constructor(
    private readonly nc: NatsConnection,
    transceiverId: string,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sub = nc.subscribe(realtimeControlSubject(transceiverId), {
      callback: (_err, msg) => this.onControl(msg),
    });
  }

  register(sessionId: string, channel: OaiEventsChannel): void {
    this.channels.set(sessionId, channel);
  }

  takeInitial(sessionId: string): Record<string, unknown> | undefined {
    const held = this.initial.get(sessionId);
    this.initial.delete(sessionId);
    return held?.event;
  }

  unregister(sessionId: string, channel: OaiEventsChannel): void {
    if (this.channels.get(sessionId) === channel) this.channels.delete(sessionId);
  }

  publish(sessionId: string, envelope: RealtimeEventEnvelope): void {
    try {
      this.nc.publish(realtimeEventsSubject(sessionId), encodeJson(envelope));
    } catch (err) {
      // NATS closed during shutdown: the watcher loses the tail, the call is unaffected.
      this.log.debug({ session: sessionId, err: (err as Error).message }, 'realtime event not published');
    }
  }

  stop(): void {
    this.sub.unsubscribe();
  }

  /**
   * Bounded in count and age: a call whose client never opens `oai-events`
   * (or never connects) must not leave its settings here for good.
   */
  private holdInitial(sessionId: string, event: Record<string, unknown>): void {
    const now = this.now();
    for (const [id, held] of this.initial) {
      if (now - held.at < INITIAL_HOLD_MS && this.initial.size < MAX_HELD) break;
      this.initial.delete(id);
    }
    this.initial.set(sessionId, { event, at: now });
  }

  private onControl(msg: Msg): void {
    let reply: RealtimeControlReply;
    try {
      const req = decodeJson(RealtimeControlRequest, msg.data);
      const channel = this.channels.get(req.sessionId);
      if (!channel && req.initial && req.event.type === 'session.update') {
        this.holdInitial(req.sessionId, req.event);
        reply = { ok: true };
      } else if (!channel)
        reply = { ok: false, code: 'not_found', message: 'no realtime session with that id here' };
      else {
        channel.onClientEvent(JSON.stringify(req.event));
        reply = { ok: true };
      }
    } catch (err) {
      this.rejected++;
      reply = { ok: false, code: 'bad_request', message: (err as Error).message };
    }
    msg.respond(encodeJson(reply));
  }
}
