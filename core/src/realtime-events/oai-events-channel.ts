import { randomBytes } from 'node:crypto';
import type { Logger } from '@parley/shared/log.js';
import type { RealtimeEventEnvelope } from '@parley/shared/nats/realtime-subjects.js';
import type { Agent } from '../agent/agent.js';
import type { ClientEventBody } from '../media/client-events.js';
import {
  type ConversationItem,
  type OaiAction,
  OaiEventMapper,
  type RealtimeSessionConfig,
  type ServerEvent,
} from './oai-events.js';

/** The data-channel label OpenAI's Realtime clients open. */
export const OAI_EVENTS_LABEL = 'oai-events';

/** The part of a data channel this glue uses (shared/src/webrtc's EventChannel has it). */
export interface OaiChannel {
  readonly open: boolean;
  send(text: string): void;
  onOpen(fn: () => void): void;
  onMessage(fn: (text: string) => void): void;
  onClose?(fn: () => void): void;
}

/**
 * What an agent may do beyond the `Agent` seam when a Realtime client drives
 * it. All optional: an agent that lacks one still works, and the client is
 * told (response.create gets an error) or the setting simply stays in the
 * session (instructions for echo).
 */
export interface RealtimeControllableAgent {
  configure?(session: RealtimeSessionConfig): void;
  createResponse?(response: Record<string, unknown>): void;
  addConversationItem?(item: ConversationItem): void;
}

/** Where a session's Realtime events also go, and where sideband client events come from. */
export interface OaiSideband {
  register(sessionId: string, channel: OaiEventsChannel): void;
  unregister(sessionId: string, channel: OaiEventsChannel): void;
  publish(sessionId: string, envelope: RealtimeEventEnvelope): void;
  /** The call's initial session.update (from its client secret), if one is waiting. */
  takeInitial?(sessionId: string): Record<string, unknown> | undefined;
}

export interface OaiEventsChannelOptions {
  sessionId: string;
  agent: Agent & RealtimeControllableAgent;
  channel: OaiChannel;
  sideband?: OaiSideband;
  /** ms since the session's pipeline started (audio_start_ms). */
  now: () => number;
  log: Logger;
  /**
   * The client closed `oai-events`. OpenAI's clients close it as they hang
   * up (then the peer connection, which the server would otherwise only
   * notice when consent runs out); the session ends the call.
   */
  onClientClosed?: () => void;
}

/** Server events held until the channel opens; past this they are dropped and counted. */
const MAX_BACKLOG = 64;

/**
 * Transport glue for one session's `oai-events` channel: Parley events in →
 * Realtime events out on the channel and the sideband; client events (from
 * the channel or the sideband) → mapper → events back and agent actions.
 */
export class OaiEventsChannel {
  private readonly mapper: OaiEventMapper;
  private readonly backlog: string[] = [];
  private closed = false;
  sent = 0;
  dropped = 0;
  clientEvents = 0;

  constructor(private readonly opts: OaiEventsChannelOptions) {
    const agent = opts.agent;
    this.mapper = new OaiEventMapper({
      sessionId: opts.sessionId,
      agentName: agent.name,
      canCreateResponse: typeof agent.createResponse === 'function',
      now: opts.now,
      newId: (prefix) => `${prefix}_${randomBytes(12).toString('base64url')}`,
    });
    opts.channel.onMessage((text) => this.onClientEvent(text));
    opts.channel.onClose?.(() => {
      if (!this.closed) opts.onClientClosed?.();
    });
    opts.channel.onOpen(() => {
      for (const json of this.backlog.splice(0)) this.sendOnChannel(json);
    });
    opts.sideband?.register(opts.sessionId, this);
    // Settings from the client secret are the session's starting point: applied before session.created.
    const initial = opts.sideband?.takeInitial?.(opts.sessionId);
    if (initial) this.applyInitial(initial);
    this.emit(this.mapper.sessionCreated());
  }

  /** One of Parley's own session events (the same ones the `events` channel carries). */
  onParleyEvent(e: ClientEventBody): void {
    if (!this.closed) this.emit(this.mapper.fromParley(e));
  }

  /** A client event's JSON text, from the data channel or a sideband WebSocket. */
  onClientEvent(text: string): void {
    if (this.closed) return;
    this.clientEvents++;
    const { events, actions } = this.mapper.fromClient(text);
    this.emit(events);
    for (const a of actions) this.act(a);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.sideband?.publish(this.opts.sessionId, { ended: reason });
    this.opts.sideband?.unregister(this.opts.sessionId, this);
  }

  private applyInitial(event: Record<string, unknown>): void {
    const { events, actions } = this.mapper.fromClient(JSON.stringify(event));
    const error = events.find((e) => e.type === 'error');
    // The edge checked these when it minted the secret; a mismatch is a version skew worth a log line.
    if (error)
      this.opts.log.warn(
        { session: this.opts.sessionId, error: error.error },
        'initial realtime settings refused',
      );
    for (const a of actions) this.act(a);
  }

  private act(a: OaiAction): void {
    const agent = this.opts.agent;
    try {
      switch (a.kind) {
        case 'configure':
          agent.configure?.(a.session);
          break;
        case 'create_response':
          agent.createResponse?.(a.response);
          break;
        case 'cancel_response':
          // The same stop a barge-in asks for; the agent reports response_done (cancelled).
          agent.interrupt();
          break;
        case 'add_item':
          agent.addConversationItem?.(a.item);
          break;
      }
    } catch (err) {
      // An agent that throws on a control call must not take the session down with it.
      this.opts.log.warn(
        { session: this.opts.sessionId, action: a.kind, err: (err as Error).message },
        'agent refused a realtime action',
      );
    }
  }

  private emit(events: ServerEvent[]): void {
    for (const e of events) {
      const json = JSON.stringify(e);
      if (this.opts.channel.open) this.sendOnChannel(json);
      else if (this.backlog.length < MAX_BACKLOG) this.backlog.push(json);
      else this.dropped++;
      this.opts.sideband?.publish(this.opts.sessionId, { event: e });
    }
  }

  private sendOnChannel(json: string): void {
    try {
      this.opts.channel.send(json);
      this.sent++;
    } catch {
      this.dropped++;
    }
  }
}
