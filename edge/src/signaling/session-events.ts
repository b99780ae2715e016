import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { routeIdOfSession } from '@parley/shared/discovery/session-id.js';
import type { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import type { Logger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { SessionInfoReply, SessionRevoked } from '@parley/shared/nats/schemas.js';
import { SESSION_REVOKED_SUBJECT, sessionStateSubject } from '@parley/shared/nats/subjects.js';
import {
  backgroundTimers,
  type Clock,
  type Intervals,
  monotonicClock,
  wallClock,
} from '@parley/shared/time/clock.js';
import type { CloseErrorCode } from './session-broker.js';
import {
  type EndedListener,
  type SessionEndedEvent,
  type SessionRegistry,
  tokenExpiryOfAnswer,
} from './session-registry.js';

/** What the HTTP app needs to answer `GET <session URL>` and `GET <session URL>/events`. */
export interface SessionStatusSource {
  /** The session's state; a session this edge did not place is looked up on its transceiver. */
  status(sessionId: string): Promise<StatusResult>;
  /** See SessionRegistry.watch; call after `status` said active. */
  watch(sessionId: string, listener: EndedListener): (() => void) | 'ended' | 'unknown' | 'busy';
}

export type StatusResult =
  | { ok: true; state: 'active'; cluster: string }
  | { ok: true; state: 'ended'; cluster: string; ended: SessionEndedEvent }
  | { ok: false; code: CloseErrorCode; detail: string };

export interface SessionPlaced {
  sessionId: string;
  transceiverId: string;
  cluster: string;
  answer: string;
}

export interface SessionEventsOptions {
  nc: NatsConnection;
  table: TransceiverTable;
  registry: SessionRegistry;
  log: Logger;
  /**
   * Whether discovery can be believed now: NATS connected for at least one
   * announcement TTL. While it cannot, a missing transceiver means nothing.
   */
  isDiscoveryLive: () => boolean;
  /** How often discovery is compared with the sessions; bounds the notice delay beyond the TTL. */
  tickMs?: number;
  /** Per session-state request when adopting a session another edge placed. */
  timeoutMs?: number;
  /** Lifetime assumed for an adopted session (its token is unknown here): the transceivers' default maximum. */
  adoptedLifetimeMs?: number;
  /** The registry's clock (ms), for expiry times; default monotonicClock. */
  clock?: Clock;
  /** Unix ms, to turn a token's `exp` into time left; default wallClock. */
  wall?: Clock;
  /** The reconcile tick; default backgroundTimers (unref'd: it alone keeps no process alive). */
  timers?: Intervals;
}

export const DEFAULT_TICK_MS = 250;
/** Expiry and retention are coarse: the whole table is walked only every this many ticks (5 s). */
const PRUNE_EVERY_TICKS = 20;
const DEFAULT_ADOPTED_LIFETIME_MS = 7_200_000;

/**
 * The I/O around SessionRegistry: sessions the broker placed go in, ends the
 * transceivers announce (revocations carrying `ended`) and transceivers that
 * leave discovery take them out, and HTTP streams watch them.
 */
export class SessionEvents implements SessionStatusSource {
  private sub: Subscription | undefined;
  private timer: unknown;
  private readonly timers: Intervals;
  private readonly wall: Clock;
  private readonly tickMs: number;
  private readonly timeoutMs: number;
  private ticks = 0;
  private readonly now: Clock;

  constructor(private readonly opts: SessionEventsOptions) {
    this.tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.now = opts.clock ?? monotonicClock;
    this.wall = opts.wall ?? wallClock;
    this.timers = opts.timers ?? backgroundTimers;
  }

  start(): void {
    const { nc, registry, log } = this.opts;
    this.sub = nc.subscribe(SESSION_REVOKED_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const r = decodeJson(SessionRevoked, msg.data);
          // Without `ended` only a token retired (ICE restart): the session lives on.
          if (r.ended !== undefined && r.sessionId !== undefined) registry.end(r.sessionId, r.ended);
        } catch (e) {
          log.debug({ err: (e as Error).message }, 'dropped invalid revocation');
        }
      },
    });
    this.timer = this.timers.setInterval(() => this.tick(), this.tickMs);
  }

  /** Called by the broker for every session it placed. */
  placed(p: SessionPlaced): void {
    const exp = tokenExpiryOfAnswer(p.answer);
    const now = this.now();
    const expiresAt =
      exp === undefined ? now + DEFAULT_ADOPTED_LIFETIME_MS : now + (exp * 1000 - this.wall());
    if (
      !this.opts.registry.track({
        sessionId: p.sessionId,
        transceiverId: p.transceiverId,
        cluster: p.cluster,
        expiresAt,
      })
    )
      this.opts.log.warn({ session: p.sessionId }, 'session registry full: this session gets no end notice');
  }

  tick(): void {
    const { registry, table, log } = this.opts;
    if (this.opts.isDiscoveryLive()) {
      const lost = registry.reconcile(new Set(table.live().map((t) => t.id)));
      if (lost.length > 0) log.warn({ sessions: lost.length }, 'sessions ended: their transceiver is gone');
    }
    // Loss detection stays per tick (it walks transceivers, not sessions); pruning walks every session.
    if (++this.ticks % PRUNE_EVERY_TICKS === 0) registry.prune();
  }

  async status(sessionId: string): Promise<StatusResult> {
    const known = this.opts.registry.status(sessionId);
    if (known)
      return known.state === 'active'
        ? { ok: true, state: 'active', cluster: known.cluster }
        : { ok: true, state: 'ended', cluster: known.cluster, ended: known.ended };
    return this.adopt(sessionId);
  }

  watch(sessionId: string, listener: EndedListener): (() => void) | 'ended' | 'unknown' | 'busy' {
    return this.opts.registry.watch(sessionId, listener);
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.sub?.unsubscribe();
  }

  /**
   * Another edge placed it (or this one restarted): ask its transceiver, and
   * track it from now on if it is live. A transceiver absent from discovery
   * means the session is gone with it, as for DELETE.
   */
  private async adopt(sessionId: string): Promise<StatusResult> {
    const routeId = routeIdOfSession(sessionId);
    const t = routeId === undefined ? undefined : this.opts.table.byRouteId(routeId);
    if (!t) return { ok: false, code: 'not_found', detail: 'no such session' };
    let reply: SessionInfoReply;
    try {
      const msg = await this.opts.nc.request(sessionStateSubject(t.id), encodeJson({ sessionId }), {
        timeout: this.timeoutMs,
      });
      reply = decodeJson(SessionInfoReply, msg.data);
    } catch (e) {
      this.opts.log.warn({ session: sessionId, err: (e as Error).message }, 'session state request failed');
      return { ok: false, code: 'unavailable', detail: 'the session’s transceiver did not answer' };
    }
    if (!reply.ok || reply.state === 'closed')
      return { ok: false, code: 'not_found', detail: 'no such session' };
    this.opts.registry.track({
      sessionId,
      transceiverId: t.id,
      cluster: t.cluster,
      expiresAt: this.now() + (this.opts.adoptedLifetimeMs ?? DEFAULT_ADOPTED_LIFETIME_MS),
    });
    return { ok: true, state: 'active', cluster: t.cluster };
  }
}
