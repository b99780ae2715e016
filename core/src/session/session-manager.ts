import type { Logger } from '@parley/shared/log.js';
import type {
  CloseReply,
  IceRestartReply,
  IceRestartRequest,
  OfferReply,
  OfferRequest,
  SessionInfoReply,
} from '@parley/shared/nats/schemas.js';
import { type Clock, systemTimers, type Timers, wallClock } from '@parley/shared/time/clock.js';
import type { TokenKeyring } from '@parley/shared/token/routing-token.js';
import type { AgentFactory } from '../agent/agent.js';
import type { OaiSideband } from '../realtime-events/oai-events-channel.js';
import type { UdpMux } from '../transport/udp-mux.js';
import { SessionTimerWheel } from './session-timer-wheel.js';
import { SetupAdmission } from './setup-admission.js';
import { type CloseReason, type SessionSetupError, TransceiverSession } from './transceiver-session.js';

export interface SessionManagerOptions {
  routeId: string;
  bindAddress: string;
  /** The transceiver's one UDP socket, shared by every session. */
  mux: UdpMux;
  /** Most concurrent sessions. */
  capacity: number;
  keyring: TokenKeyring;
  agents: ReadonlyMap<string, AgentFactory>;
  defaultAgent: string;
  maxSessionSeconds: number;
  iceTimeoutMs: number;
  consentTimeoutMs: number;
  /** Wall-clock ms for session deadlines (default wallClock). */
  now?: Clock;
  /** The drain deadline's timer (default systemTimers). */
  timers?: Timers;
  log: Logger;
  /** Called whenever the session count changes, so the announcer can publish early. */
  onLoadChange?: () => void;
  /** Bounds concurrent setups (offer → DTLS up); without it every offer starts at once. */
  setupAdmission?: SetupAdmission;
  /**
   * A routing token must stop opening relay flows (see SESSION_REVOKED_SUBJECT): its session
   * ended (`endedReason` set), or an ICE restart replaced it (no reason). Called once per token.
   */
  onSessionEnded?: (routingToken: string, sessionId: string, endedReason?: CloseReason) => void;
  /** The Realtime sideband (oai-events sessions publish to it). */
  realtimeSideband?: OaiSideband;
}

/** Owns every session on this transceiver: admission, lookup, drain. */
export class SessionManager {
  private readonly sessions = new Map<string, TransceiverSession>();
  /** Sessions being set up: they count against capacity before they are in `sessions`. */
  private pending = 0;
  private readonly closedWaiters = new Set<() => void>();
  private readonly now: () => number;
  private readonly drainTimers: Timers;
  /** One timer for every session's deadlines and RTCP reports, instead of one interval each. */
  private readonly timers: SessionTimerWheel<TransceiverSession>;
  readonly admission: SetupAdmission;
  draining = false;
  readonly closedByReason = new Map<CloseReason, number>();

  constructor(private readonly opts: SessionManagerOptions) {
    this.now = opts.now ?? wallClock;
    this.drainTimers = opts.timers ?? systemTimers;
    this.timers = new SessionTimerWheel({ now: this.now, tickMs: 250, onDue: (s, now) => s.onTimer(now) });
    this.admission =
      opts.setupAdmission ??
      new SetupAdmission({ maxConcurrent: 0, maxQueue: 0, maxWaitMs: 0, maxHoldMs: 0 });
    if (!opts.agents.has(opts.defaultAgent))
      throw new Error(`default agent "${opts.defaultAgent}" is not registered`);
  }

  get count(): number {
    return this.sessions.size;
  }

  get capacity(): number {
    return this.opts.capacity;
  }

  private get occupied(): number {
    return this.sessions.size + this.pending;
  }

  async create(req: OfferRequest): Promise<OfferReply> {
    if (this.draining) return { ok: false, code: 'draining', message: 'transceiver is draining' };
    if (this.sessions.has(req.sessionId))
      return { ok: false, code: 'bad_offer', message: 'session id already in use' };
    if (this.occupied >= this.capacity)
      return { ok: false, code: 'no_capacity', message: 'transceiver is full' };
    const agentName = req.agent ?? this.opts.defaultAgent;
    const agent = this.opts.agents.get(agentName);
    if (!agent) return { ok: false, code: 'bad_offer', message: `unknown agent "${agentName}"` };
    // Wait for a setup slot (bounded); refused offers become 503 + Retry-After at the edge.
    const admitted = await this.admission.acquire();
    if (!admitted.ok) {
      this.opts.log.info({ session: req.sessionId, reason: admitted.reason }, 'setup refused');
      return { ok: false, code: 'no_capacity', message: admitted.message };
    }
    const ticket = admitted.ticket;
    // The wait may have been long enough for a drain to start or the transceiver to fill.
    if (this.draining) {
      ticket.release();
      return { ok: false, code: 'draining', message: 'transceiver is draining' };
    }
    if (this.occupied >= this.capacity) {
      ticket.release();
      return { ok: false, code: 'no_capacity', message: 'transceiver is full' };
    }

    this.pending++;
    try {
      const { session, answer } = await TransceiverSession.create({
        sessionId: req.sessionId,
        offer: req.offer,
        relay: req.relay,
        relayTcp: req.relayTcp,
        mux: this.opts.mux,
        bindAddress: this.opts.bindAddress,
        keyring: this.opts.keyring,
        routeId: this.opts.routeId,
        maxSessionSeconds: this.opts.maxSessionSeconds,
        agent,
        iceTimeoutMs: this.opts.iceTimeoutMs,
        consentTimeoutMs: this.opts.consentTimeoutMs,
        now: this.now,
        timers: this.timers,
        log: this.opts.log,
        onStateChange: (s, state) => {
          this.opts.log.debug({ session: s.id, state }, 'session state');
          // The expensive part (DTLS) is over, or will never happen.
          if (state === 'connected' || state === 'closed') ticket.release();
        },
        onClosed: (s, reason) => this.onClosed(s, reason),
        onTokenRetired: (s, token) => this.opts.onSessionEnded?.(token, s.id),
        realtimeSideband: this.opts.realtimeSideband,
      });
      this.sessions.set(session.id, session);
      this.opts.log.info(
        {
          session: session.id,
          agent: agentName,
          subject: req.subject,
          queuedMs: Math.round(admitted.waitedMs),
        },
        'session created',
      );
      this.opts.onLoadChange?.();
      return { ok: true, sessionId: session.id, answer };
    } catch (err) {
      // TransceiverSession.create closed the half-built session.
      ticket.release();
      const e = err as SessionSetupError;
      this.opts.log.warn({ session: req.sessionId, err: e.message }, 'session setup failed');
      return { ok: false, code: e.code ?? 'internal', message: e.message };
    } finally {
      this.pending--;
    }
  }

  async close(sessionId: string, reason: CloseReason = 'deleted'): Promise<CloseReply> {
    const session = this.sessions.get(sessionId);
    if (!session) return { ok: false, code: 'not_found', message: 'no such session' };
    await session.close(reason);
    return { ok: true };
  }

  /** WHIP PATCH: an ICE restart (or a trickle-only PATCH, answered with an empty fragment). */
  restartIce(req: IceRestartRequest): IceRestartReply {
    const session = this.sessions.get(req.sessionId);
    if (!session) return { ok: false, code: 'not_found', message: 'no such session' };
    const r = session.restartIce(req);
    return r.ok ? { ok: true, sdpfrag: r.sdpfrag } : { ok: false, code: r.code, message: r.message };
  }

  /** A live session, for in-process tests and diagnostics. */
  get(sessionId: string): TransceiverSession | undefined {
    return this.sessions.get(sessionId);
  }

  info(sessionId: string): SessionInfoReply {
    const s = this.sessions.get(sessionId);
    if (!s) return { ok: false, code: 'not_found', message: 'no such session' };
    return {
      ok: true,
      sessionId: s.id,
      state: s.state,
      port: this.opts.mux.port,
      remote: s.remote,
      packetsIn: s.packetsIn,
      packetsOut: s.packetsOut,
    };
  }

  /** Stops admitting sessions and waits for the current ones to end, up to `timeoutMs`; then closes the rest. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.admission.close();
    this.opts.onLoadChange?.();
    if (this.sessions.size > 0) {
      const drainTimers = this.drainTimers;
      await new Promise<void>((resolve) => {
        // Ref'd by default (systemTimers): a drain waiting on its deadline keeps the process up until it passes.
        const timer = drainTimers.setTimeout(done, timeoutMs);
        const waiter = () => {
          if (this.sessions.size === 0) done();
        };
        function done() {
          drainTimers.clearTimeout(timer);
          resolve();
        }
        this.closedWaiters.add(waiter);
      });
      this.closedWaiters.clear();
    }
    await this.closeAll('shutdown');
  }

  async closeAll(reason: CloseReason): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.close(reason)));
  }

  private onClosed(session: TransceiverSession, reason: CloseReason): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    this.closedByReason.set(reason, (this.closedByReason.get(reason) ?? 0) + 1);
    if (reason !== 'setup_failed') this.opts.log.info({ session: session.id, reason }, 'session closed');
    for (const token of session.routingTokens) this.opts.onSessionEnded?.(token, session.id, reason);
    this.opts.onLoadChange?.();
    for (const w of this.closedWaiters) w();
  }
}
