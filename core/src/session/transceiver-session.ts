import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from '@parley/shared/log.js';
import type { SessionState } from '@parley/shared/nats/schemas.js';
import { preferredSrtpProfileIds } from '@parley/shared/srtp/srtp-engine.js';
import { encodeToken, type TokenKeyring } from '@parley/shared/token/routing-token.js';
import { serializeIceRestartFrag } from '@parley/shared/webrtc/ice-sdpfrag.js';
import {
  type EventChannel,
  LitePeer,
  OfferRejectedError,
  type SrtpKeyingMaterial,
} from '@parley/shared/webrtc/lite-peer.js';
import type { AgentFactory } from '../agent/agent.js';
import { checkBindingRequest } from '../ice/stun-guard.js';
import type { ClientEvent, ClientEventBody } from '../media/client-events.js';
import { VoicePipeline } from '../media/voice-pipeline.js';
import {
  OAI_EVENTS_LABEL,
  OaiEventsChannel,
  type OaiSideband,
} from '../realtime-events/oai-events-channel.js';
import { ParleyEventReplay } from '../realtime-events/parley-event-replay.js';
import { MediaTransport } from '../rtp/media-transport.js';
import { recordSessionSetup } from '../transceiver-metrics.js';
import { addressOf, ipv4ToU32 } from '../transport/datagram-socket.js';
import type { MuxEndpoint, UdpMux } from '../transport/udp-mux.js';
import { dtlsRoleForOffer } from './dtls-role.js';
import {
  answerTransportProblem,
  answerWithRelayCandidate,
  offerTransportOf,
  stripCandidates,
} from './sdp-rewrite.js';
import { type CloseReason, SessionLifecycle } from './session-lifecycle.js';
import type { SessionTimerWheel } from './session-timer-wheel.js';

export type { CloseReason };

export interface SessionOptions {
  sessionId: string;
  offer: string;
  /** The only candidate the answer carries. */
  relay: { ip: string; port: number };
  /** The relay's ICE-TCP address, if the edge advertises one. */
  relayTcp?: { ip: string; port: number };
  /** The transceiver's one UDP socket, shared by every session. */
  mux: UdpMux;
  /** Private address the socket is bound to (werift's host candidate). */
  bindAddress: string;
  keyring: TokenKeyring;
  routeId: string;
  /** Token lifetime = longest session: relays stop rebuilding flows after it. */
  maxSessionSeconds: number;
  agent: AgentFactory;
  iceTimeoutMs: number;
  consentTimeoutMs: number;
  /** Wall clock in ms (token expiry is absolute time). */
  now: () => number;
  /** The transceiver's one timer for every session's deadlines, on the same clock. */
  timers: SessionTimerWheel<TransceiverSession>;
  log: Logger;
  onStateChange?: (session: TransceiverSession, state: SessionState) => void;
  onClosed: (session: TransceiverSession, reason: CloseReason) => void;
  /** A routing token from before an ICE restart is no longer used: relays should revoke it now. */
  onTokenRetired?: (session: TransceiverSession, token: string) => void;
  /** Where `oai-events` sessions publish Realtime events and take sideband client events. */
  realtimeSideband?: OaiSideband;
}

export class SessionSetupError extends Error {
  override readonly name = 'SessionSetupError';
  constructor(
    readonly code: 'bad_offer' | 'internal',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What an ICE restart request (WHIP PATCH) carries: the client's new credentials. */
export interface IceRestartInput {
  ufrag: string;
  pwd: string;
  /** The client's media section, echoed in the answer fragment with our candidates. */
  mid?: string;
}

export type IceRestartResult =
  | { ok: true; sdpfrag: string; restarted: boolean }
  | { ok: false; code: 'not_connected' | 'internal'; message: string };

/** ICE credentials of one generation (before and after a restart). */
interface IceGeneration {
  localUfrag: string;
  remoteUfrag: string;
  password: Buffer;
}

/** RTCP sender reports go out this often while connected (RFC 3550's 5 s minimum interval). */
const RTCP_INTERVAL_MS = 5_000;

/**
 * One client's WebRTC session on the transceiver's shared socket. werift
 * (behind `LitePeer`) answers the offer, ICE-lite checks and the DTLS
 * handshake; after that, media is Parley's own: SRTP in `MediaTransport`,
 * audio in `VoicePipeline`. The lifecycle is the pure `SessionLifecycle`;
 * this class is the shell that feeds it packets and time.
 */
export class TransceiverSession implements MuxEndpoint {
  private readonly lifecycle: SessionLifecycle;
  readonly createdAt: number;
  private peer?: LitePeer;
  private media?: MediaTransport;
  private pipeline?: VoicePipeline;
  private localUfrag = '';
  /** The client's ufrag on our one transport: the BUNDLE tag section's (RFC 8843), not werift's pick. */
  private remoteUfrag = '';
  private password = Buffer.alloc(0);
  /** The credentials before the latest ICE restart, answered until the client nominates with the new ones. */
  private previous?: IceGeneration;
  /** Every token expires when the first one does: a restart must not extend the session's life. */
  private tokenExpiresAt = 0;
  /** The answer's candidate lines, repeated in an ICE restart's answer fragment. */
  private candidateLines: string[] = [];
  iceRestarts = 0;
  /** The client's SSRCs seen in authenticated media (re-registered under a new ufrag after a restart). */
  private readonly remoteSsrcs: number[] = [];
  /** Times media moved to a new relay flow on an authenticated SRTP packet, without STUN. */
  movesBySrtp = 0;
  /** Whether the client has nominated a path (USE-CANDIDATE) in this session. */
  private nominated = false;
  /** Where media goes: the address of the latest verified nomination (before one, the first verified check's). */
  private mediaAddress = '';
  private mediaIp4 = -1;
  private mediaPort = 0;
  /** The client's `events` data channel, when it opened one. */
  private events?: EventChannel;
  /** Events raised before the channel opened (bounded). */
  private readonly eventBacklog: string[] = [];
  /** The OpenAI-Realtime `oai-events` channel, when the client opened one. */
  private oai?: OaiEventsChannel;
  /** What is under way (a turn, a reply), for an `oai-events` channel that opens late. */
  private readonly oaiReplay = new ParleyEventReplay();
  eventsSent = 0;
  eventsDropped = 0;
  /** STUN checks that failed USERNAME or MESSAGE-INTEGRITY; non-media datagrams of no known kind. */
  rejectedChecks = 0;
  /** When the next sender report is due (wall ms); Infinity until DTLS is up. */
  private nextReportAt = Number.POSITIVE_INFINITY;
  private closing?: Promise<void>;
  private agentEndReason?: string;

  private constructor(private readonly opts: SessionOptions) {
    this.createdAt = opts.now();
    this.lifecycle = new SessionLifecycle({
      now: this.createdAt,
      iceTimeoutMs: opts.iceTimeoutMs,
      consentTimeoutMs: opts.consentTimeoutMs,
      maxSessionMs: opts.maxSessionSeconds * 1000,
      mediaKeepsConsent: true,
    });
  }

  get id(): string {
    return this.opts.sessionId;
  }

  get state(): SessionState {
    return this.lifecycle.state;
  }

  get packetsIn(): number {
    return this.media?.counters.rtpIn ?? 0;
  }

  get packetsOut(): number {
    return this.media?.counters.rtpOut ?? 0;
  }

  get mediaCounters() {
    return this.media?.counters;
  }

  /** How the DTLS handshake's first datagrams reached werift (ClientHellos, held datagrams). */
  get dtlsIntake() {
    return this.peer?.dtlsIntake;
  }

  /** This session's ICE ufrag, i.e. its routing token: published when the session ends so relays revoke it. */
  get routingToken(): string {
    return this.localUfrag;
  }

  get remote(): string | undefined {
    return this.mediaAddress ? `${this.mediaAddress}:${this.mediaPort}` : undefined;
  }

  /** Builds the session and returns it with its SDP answer. */
  static async create(opts: SessionOptions): Promise<{ session: TransceiverSession; answer: string }> {
    const session = new TransceiverSession(opts);
    try {
      const answer = await session.negotiate();
      return { session, answer };
    } catch (err) {
      await session.close('setup_failed');
      if (err instanceof SessionSetupError) throw err;
      if (err instanceof OfferRejectedError)
        throw new SessionSetupError('bad_offer', err.message, { cause: err });
      throw new SessionSetupError('internal', (err as Error).message, { cause: err });
    }
  }

  private async negotiate(): Promise<string> {
    const { opts } = this;
    // One transport per session. In a BUNDLE group the tagged section's ICE
    // credentials are the ones the client checks with, whatever the other
    // sections carry (aiortc gives each its own); an offer with several
    // transports is refused with the fix named (the edge checks this first).
    const transport = offerTransportOf(opts.offer);
    if (!transport.ok) throw new SessionSetupError('bad_offer', transport.detail);
    this.remoteUfrag = transport.ufrag;
    // The ufrag is the routing token relays verify; it is unique per session,
    // so it also names the session on the shared socket.
    this.tokenExpiresAt = Math.floor(opts.now() / 1000) + opts.maxSessionSeconds;
    this.localUfrag = this.mintToken();
    const password = randomBytes(18).toString('base64');
    this.password = Buffer.from(password, 'utf8');
    this.peer = await LitePeer.negotiate({
      offer: stripCandidates(opts.offer),
      localUfrag: this.localUfrag,
      localPassword: password,
      settings: {
        bindAddress: opts.bindAddress,
        port: opts.mux.port,
        // DTLS server unless the offer insists (see dtls-role.ts): saves werift's 100 ms client delay.
        dtlsRole: dtlsRoleForOffer(opts.offer),
        srtpProfiles: preferredSrtpProfileIds(),
      },
      sink: {
        send: (d, port, address) => {
          // DTLS and SCTP follow the media path: werift's pair may still name a relay
          // flow that authenticated SRTP has since replaced (onUnboundMedia). STUN
          // responses go where the request came from.
          const b = d[0] as number;
          if (b >= 20 && b < 64 && this.mediaPort)
            opts.mux.send(d, this.mediaPort, this.mediaAddress, this.mediaIp4);
          else opts.mux.send(d, port, address, ipv4ToU32(address));
        },
      },
      onSrtpKeys: (keys) => this.startMedia(keys),
      onConnectionState: (s) => this.onConnectionState(s),
      onDataChannel: (dc) => this.onDataChannel(dc),
    });
    const problem = answerTransportProblem(this.peer.answer, this.localUfrag, transport.bundled);
    if (problem) throw new SessionSetupError('internal', problem);
    this.attachAgent();
    try {
      await this.pipeline?.ready();
    } catch (err) {
      throw new SessionSetupError('internal', `agent unavailable: ${(err as Error).message}`, { cause: err });
    }
    // The agent may have ended (or a DELETE arrived) while we waited: answering now would
    // hand the client a session that is already gone, and it would wait for media forever.
    if (this.closing)
      throw new SessionSetupError(
        'internal',
        `session ended during setup: ${this.agentEndReason ?? this.lifecycle.closeReason ?? 'closed'}`,
      );
    opts.mux.register(this.localUfrag, this);
    this.schedule();
    const answer = answerWithRelayCandidate(this.peer.answer, opts.relay, opts.relayTcp);
    this.candidateLines = answer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    return answer;
  }

  private mintToken(): string {
    const { opts } = this;
    return encodeToken(opts.keyring, {
      routeId: opts.routeId,
      expiresAt: this.tokenExpiresAt,
      // Signed into the token so a relay without discovery (NATS down) can still forward here.
      target:
        isIP(opts.bindAddress) && opts.bindAddress !== '0.0.0.0' && opts.bindAddress !== '::'
          ? { address: opts.bindAddress, port: opts.mux.port }
          : undefined,
    });
  }

  /**
   * ICE restart (WHIP PATCH, RFC 9725 §4.3.2) after the client's network
   * changed: a new ufrag (a new routing token, which relays route like any
   * other) and password for the same session. DTLS, SRTP and the agent
   * conversation stay as they are; the client's checks with the new
   * credentials bind its new address, and its nomination moves media there.
   * The old credentials keep working until then, so nothing breaks if the
   * old path is still alive. Credentials equal to the current ones are a
   * trickle-only PATCH: accepted and ignored (the relay is our only candidate).
   */
  restartIce(req: IceRestartInput): IceRestartResult {
    const peer = this.peer;
    if (!peer || this.lifecycle.state !== 'connected')
      return { ok: false, code: 'not_connected', message: `session is ${this.lifecycle.state}` };
    // RFC 8445 §9: a restart changes the ufrag (and password); the same ufrag is a trickle PATCH.
    if (req.ufrag === this.remoteUfrag) return { ok: true, sdpfrag: '', restarted: false };
    // A second restart before the first completed: the oldest credentials go now.
    if (this.previous) this.retire(this.previous.localUfrag);
    let ufrag = this.mintToken();
    for (let i = 0; i < 3; i++) {
      try {
        this.opts.mux.register(ufrag, this);
        break;
      } catch (err) {
        // The 48-bit nonce collided with a live session's: re-roll (ARCHITECTURE.md, routing token).
        if (i === 2) return { ok: false, code: 'internal', message: (err as Error).message };
        ufrag = this.mintToken();
      }
    }
    const password = randomBytes(18).toString('base64');
    this.previous = { localUfrag: this.localUfrag, remoteUfrag: this.remoteUfrag, password: this.password };
    this.localUfrag = ufrag;
    this.remoteUfrag = req.ufrag;
    this.password = Buffer.from(password, 'utf8');
    for (const ssrc of this.remoteSsrcs) this.opts.mux.registerSsrc(ufrag, ssrc);
    peer.restartIce({ ufrag, pwd: password }, { ufrag: req.ufrag, pwd: req.pwd });
    this.iceRestarts++;
    this.opts.log.info({ session: this.id, restarts: this.iceRestarts }, 'ice restart');
    return {
      ok: true,
      restarted: true,
      sdpfrag: serializeIceRestartFrag(
        { ufrag, pwd: password },
        { ...(req.mid !== undefined && { mid: req.mid }), candidates: this.candidateLines },
      ),
    };
  }

  /** Stops answering a pre-restart ufrag and has relays revoke it. */
  private retire(ufrag: string): void {
    this.opts.mux.unregister(ufrag);
    this.peer?.forgetUfrag(ufrag);
    if (this.previous?.localUfrag === ufrag) this.previous = undefined;
    this.opts.onTokenRetired?.(this, ufrag);
  }

  /** Every token that still opens relay flows to this session (revoked when it ends). */
  get routingTokens(): string[] {
    return this.previous
      ? [this.localUfrag, this.previous.localUfrag]
      : this.localUfrag
        ? [this.localUfrag]
        : [];
  }

  /** A Binding Request naming our ufrag, from any address: verified here before werift sees it. */
  onBindingRequest(data: Buffer, address: string, ip4: number, port: number): boolean {
    const peer = this.peer;
    if (!peer || this.lifecycle.state === 'closed') return false;
    let verdict = checkBindingRequest(data, this.localUfrag, this.remoteUfrag, this.password);
    const old = this.previous;
    let oldGeneration = false;
    if (!verdict.ok && old) {
      // The path from before an ICE restart, still in use until the client nominates a new one.
      const v = checkBindingRequest(data, old.localUfrag, old.remoteUfrag, old.password);
      if (v.ok) {
        verdict = v;
        oldGeneration = true;
      }
    }
    if (!verdict.ok) {
      this.rejectedChecks++;
      this.opts.log.debug({ session: this.id, reason: verdict.reason, address, port }, 'stun rejected');
      return false;
    }
    const differs = this.mediaAddress !== '' && (this.mediaAddress !== address || this.mediaPort !== port);
    // A path change is a nomination elsewhere after the client nominated once.
    const moved = differs && this.nominated;
    const change = this.lifecycle.verifiedCheck(this.opts.now(), {
      useCandidate: verdict.useCandidate,
      fromNewAddress: moved,
    });
    if (change?.state === 'closed') {
      void this.close(change.reason);
      return false;
    }
    if (change) this.opts.onStateChange?.(this, change.state);
    // The client nominated with the new credentials: the restart is done, the old token goes.
    const restartDone = verdict.useCandidate && !oldGeneration && old !== undefined;
    if (restartDone) this.retire(old.localUfrag);
    let early = false;
    if (verdict.useCandidate && (differs || !this.nominated || restartDone)) {
      if (moved)
        this.opts.log.info(
          { session: this.id, from: this.remote, to: `${address}:${port}` },
          'media path moved to a new relay flow',
        );
      // Away from the path werift has selected (nominated, or taken before the nomination).
      if (differs) peer.renominate();
      this.nominated = true;
      this.mediaAddress = address;
      this.mediaIp4 = ip4;
      this.mediaPort = port;
    } else if (!this.nominated && this.mediaAddress === '') {
      // The first verified check, before any nomination: its path carries DTLS
      // (and media) until the client nominates, since a browser sends its
      // ClientHello as soon as this check is answered (see LitePeer.selectBeforeNomination).
      early = true;
      this.mediaAddress = address;
      this.mediaIp4 = ip4;
      this.mediaPort = port;
    }
    // werift may keep the bytes past this call; the socket's buffer is reused.
    peer.receive(Buffer.from(data), address, port);
    // After werift has seen the check: it pairs the address then.
    if (early) peer.selectBeforeNomination(address, port);
    return true;
  }

  /** DTLS, SRTP or SRTCP from an address a verified check bound to this session. */
  onDatagram(data: Buffer, address: string | undefined, ip4: number, port: number): void {
    const b = data[0] as number;
    if (b >= 128 && b < 192) {
      if (this.media) this.media.receive(data);
      return;
    }
    // werift may keep the bytes past this call; the socket's buffer is reused.
    if (b >= 20 && b < 64) this.peer?.receive(Buffer.from(data), addressOf(address, ip4), port);
    else this.rejectedChecks++;
  }

  /**
   * SRTP/SRTCP naming our client's SSRC from an address no check bound (a
   * restarted or sibling relay's new flow): if it authenticates with this
   * session's keys (and passes the replay window), media moves there at once
   * instead of waiting for the client's next consent check.
   */
  onUnboundMedia(data: Buffer, address: string | undefined, ip4: number, port: number): boolean {
    if (!this.media || this.lifecycle.state !== 'connected') return false;
    if (!this.media.receive(data)) return false;
    const to = addressOf(address, ip4);
    this.movesBySrtp++;
    this.opts.log.info(
      { session: this.id, from: this.remote, to: `${to}:${port}` },
      'media path moved to a new relay flow on authenticated SRTP',
    );
    this.mediaAddress = to;
    this.mediaIp4 = ip4;
    this.mediaPort = port;
    return true;
  }

  private startMedia(keys: SrtpKeyingMaterial): void {
    const peer = this.peer;
    if (!peer) return;
    this.media = new MediaTransport({
      keys,
      outbound: peer.audio,
      cname: this.localUfrag.slice(0, 16),
      send: (data) => {
        if (this.mediaPort) this.opts.mux.send(data, this.mediaPort, this.mediaAddress, this.mediaIp4);
      },
      onRtp: (seq, ts, payload) => this.pipeline?.onRtp(seq, ts, payload),
      onAuthenticated: () => this.lifecycle.mediaAuthenticated(this.opts.now()),
      onRemoteSsrc: (ssrc) => {
        if (this.remoteSsrcs.includes(ssrc) || this.remoteSsrcs.length >= 4) return;
        this.remoteSsrcs.push(ssrc);
        this.opts.mux.registerSsrc(this.localUfrag, ssrc);
      },
      now: () => performance.now(),
      wallNow: this.opts.now,
    });
  }

  private attachAgent(): void {
    this.pipeline = new VoicePipeline({
      sessionId: this.id,
      agent: this.opts.agent,
      sendRtp: (payload, timestamp, marker) => {
        if (this.lifecycle.state === 'connected') this.media?.sendRtp(payload, timestamp, marker);
      },
      emit: (e) => this.sendEvent(e),
      onAgentEnd: (reason) => {
        this.agentEndReason = `agent: ${reason}`;
        this.opts.log.warn({ session: this.id, reason }, 'agent ended the session');
        void this.close('agent_ended');
      },
      log: this.opts.log,
    });
  }

  private onDataChannel(dc: EventChannel): void {
    if (dc.label === OAI_EVENTS_LABEL && !this.oai && this.pipeline) {
      const log = this.opts.log;
      const t0 = this.createdAt;
      const now = () => this.opts.now() - t0;
      const sideband = this.opts.realtimeSideband;
      this.oai = new OaiEventsChannel({
        sessionId: this.id,
        agent: this.pipeline.agent,
        channel: dc,
        sideband,
        now,
        log,
        // The Realtime client hung up (closing its channel, then the connection).
        onClientClosed: () => void this.close('deleted'),
      });
      // Media often starts before the data channel: the client still learns what is under way.
      for (const e of this.oaiReplay.current()) this.oai.onParleyEvent(e);
      return;
    }
    // The client may open an `events` channel; sessions without one work the same.
    if (dc.label !== 'events' || this.events) return;
    this.events = dc;
    dc.onOpen(() => {
      for (const e of this.eventBacklog.splice(0)) this.sendOnChannel(e);
    });
  }

  /** JSON on the `events` channel; held (bounded) until it opens, dropped and counted past that. */
  private sendEvent(e: ClientEventBody): void {
    this.oai?.onParleyEvent(e);
    this.oaiReplay.observe(e);
    const json = JSON.stringify({ ...e, t: Math.round(this.opts.now() - this.createdAt) } as ClientEvent);
    if (this.events?.open) this.sendOnChannel(json);
    else if (this.eventBacklog.length < 32) this.eventBacklog.push(json);
    else this.eventsDropped++;
  }

  private sendOnChannel(json: string): void {
    try {
      this.events?.send(json);
      this.eventsSent++;
    } catch {
      this.eventsDropped++;
    }
  }

  /** Gives the last events (session.ended) a moment to leave before the transport goes. */
  private async flushEvents(maxMs: number): Promise<void> {
    const dc = this.events;
    if (!dc?.open || this.eventsSent === 0) return;
    const until = performance.now() + maxMs;
    // werift queues sends; one turn of the loop starts them, a few ms sees them out on loopback.
    do await new Promise((r) => setTimeout(r, 10));
    while (dc.bufferedAmount > 0 && performance.now() < until);
  }

  /** One timer for all sessions (the manager's wheel) calls back here at the next deadline or report. */
  onTimer(now: number): void {
    const fired = this.lifecycle.tick(now);
    if (fired) {
      void this.close(fired);
      return;
    }
    if (now >= this.nextReportAt) {
      this.media?.sendReport();
      this.nextReportAt = now + RTCP_INTERVAL_MS;
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.closing)
      this.opts.timers.schedule(this, Math.min(this.lifecycle.nextDeadline(), this.nextReportAt));
  }

  private onConnectionState(s: 'connected' | 'failed' | 'closed'): void {
    if (this.lifecycle.state === 'closed') return;
    if (s !== 'connected') {
      void this.close('transport_failed');
      return;
    }
    const now = this.opts.now();
    const change = this.lifecycle.dtlsConnected(now);
    if (change?.state === 'closed') void this.close(change.reason);
    else if (change) {
      recordSessionSetup('connected', (now - this.createdAt) / 1000);
      this.nextReportAt = now + RTCP_INTERVAL_MS;
      // Connected moves the deadlines (the ICE timeout is gone, consent starts).
      this.schedule();
      this.opts.onStateChange?.(this, change.state);
    }
  }

  /** Idempotent: releases the mux entry, timer, agent and werift; the first reason wins. */
  close(reason: CloseReason): Promise<void> {
    if (!this.closing) {
      // The lifecycle may have closed itself (a deadline fired): its reason stands.
      this.lifecycle.close(reason);
      this.closing = this.teardown(this.lifecycle.closeReason ?? reason);
    }
    return this.closing;
  }

  private async teardown(reason: CloseReason): Promise<void> {
    this.opts.timers.cancel(this);
    if (reason !== 'agent_ended' && reason !== 'setup_failed')
      this.sendEvent({ type: 'session.ended', reason });
    this.pipeline?.close();
    this.oai?.close(reason);
    if (this.pipeline)
      this.opts.log.debug(
        {
          session: this.id,
          media: this.pipeline.stats,
          jitter: this.pipeline.jitter.stats,
          transport: this.media?.counters,
          dtls: this.peer?.dtlsIntake,
        },
        'session media',
      );
    await this.flushEvents(150);
    if (this.localUfrag) this.opts.mux.unregister(this.localUfrag);
    if (this.previous) this.opts.mux.unregister(this.previous.localUfrag);
    try {
      await this.peer?.close();
    } catch (err) {
      this.opts.log.warn(
        { session: this.id, err: (err as Error).message },
        'error while closing peer connection',
      );
    }
    this.opts.onStateChange?.(this, 'closed');
    this.opts.onClosed(this, reason);
  }
}
