import { randomBytes } from 'node:crypto';
import type { Logger } from '@parley/shared/log.js';
import type { SessionState } from '@parley/shared/nats/schemas.js';
import { encodeToken, type TokenKeyring } from '@parley/shared/token/routing-token.js';
import { OPUS_PAYLOAD_TYPE, opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import {
  type Address,
  MediaStreamTrack,
  type RTCDataChannel,
  RTCPeerConnection,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
} from 'werift';
import type { AgentFactory } from '../agent/agent.js';
import { type GuardedConnection, type GuardedTransport, guardIce } from '../ice/ice-guard.js';
import type { ClientEvent, ClientEventBody } from '../media/client-events.js';
import { VoicePipeline } from '../media/voice-pipeline.js';
import { dtlsRoleForOffer } from './dtls-role.js';
import { answerWithRelayCandidate, stripCandidates } from './sdp-rewrite.js';

export type CloseReason =
  | 'deleted'
  | 'ice_timeout'
  | 'consent_lost'
  | 'expired'
  | 'transport_failed'
  | 'agent_ended'
  | 'shutdown'
  | 'setup_failed';

export interface SessionOptions {
  sessionId: string;
  offer: string;
  /** The only candidate the answer carries. */
  relay: { ip: string; port: number };
  /** The ICE port this session owns (from the PortAllocator). */
  port: number;
  /** Private address to bind; relays forward here. */
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
  log: Logger;
  onStateChange?: (session: TransceiverSession, state: SessionState) => void;
  onClosed: (session: TransceiverSession, reason: CloseReason) => void;
}

export class SessionSetupError extends Error {
  constructor(
    readonly code: 'bad_offer' | 'internal',
    message: string,
  ) {
    super(message);
  }
}

// Opus only: the transceiver exists to carry voice. Clients that offer no
// Opus get an answer with the audio section rejected, which the edge reports.
const CODECS = opusOnlyCodecs();

/**
 * One client's WebRTC session: ICE-lite + DTLS + SRTP on werift, the echo or
 * model agent behind it, and the lifecycle
 * created → connecting → connected → closed.
 */
export class TransceiverSession {
  state: SessionState = 'created';
  packetsIn = 0;
  packetsOut = 0;
  readonly createdAt: number;
  private pc!: RTCPeerConnection;
  private pipeline?: VoicePipeline;
  private outTrack?: MediaStreamTrack;
  /** The client's `events` data channel, when it opened one. */
  private events?: RTCDataChannel;
  /** Events raised before the channel opened (bounded). */
  private readonly eventBacklog: string[] = [];
  eventsSent = 0;
  eventsDropped = 0;
  private outSeq = randomBytes(2).readUInt16BE(0);
  private lastConsentAt = 0;
  private unguard?: () => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private conn?: GuardedConnection;

  private constructor(private readonly opts: SessionOptions) {
    this.createdAt = opts.now();
  }

  get id(): string {
    return this.opts.sessionId;
  }

  get port(): number {
    return this.opts.port;
  }

  get remote(): string | undefined {
    const addr = this.conn?.nominated?.remoteAddr;
    return addr ? `${addr[0]}:${addr[1]}` : undefined;
  }

  /** Builds the peer connection and returns the session with its SDP answer. */
  static async create(opts: SessionOptions): Promise<{ session: TransceiverSession; answer: string }> {
    const session = new TransceiverSession(opts);
    try {
      const answer = await session.negotiate();
      return { session, answer };
    } catch (err) {
      await session.close('setup_failed');
      if (err instanceof SessionSetupError) throw err;
      throw new SessionSetupError('internal', (err as Error).message);
    }
  }

  private async negotiate(): Promise<string> {
    const { opts } = this;
    const v6 = opts.bindAddress.includes(':');
    this.pc = new RTCPeerConnection({
      codecs: CODECS,
      // werift's default is a public STUN server; a private transceiver has no use for one.
      iceServers: [],
      iceLite: true,
      iceUseIpv4: !v6,
      iceUseIpv6: v6,
      iceInterfaceAddresses: v6 ? { udp6: opts.bindAddress } : { udp4: opts.bindAddress },
      // werift rejects a one-port range; it scans upward, so our port is taken
      // first when free, and the bound port is checked below.
      icePortRange: [opts.port, opts.port + 1],
    });
    this.pc.connectionStateChange.subscribe((s) => this.onConnectionState(s));
    // werift fires onTrack inside setRemoteDescription, so subscribe first.
    this.pc.onTrack.subscribe((remote) => {
      if (remote.kind !== 'audio') return;
      remote.onReceiveRtp.subscribe((rtp) => {
        this.packetsIn++;
        this.pipeline?.onRtp(rtp.header.sequenceNumber, rtp.header.timestamp, rtp.payload);
      });
    });
    // The client may open an `events` channel; sessions without one work the same.
    this.pc.onDataChannel.subscribe((dc) => {
      if (dc.label !== 'events' || this.events) return;
      this.events = dc;
      const flush = () => {
        for (const e of this.eventBacklog.splice(0)) this.sendOnChannel(e);
      };
      if (dc.readyState === 'open') flush();
      else dc.stateChanged.subscribe((s) => s === 'open' && flush());
    });

    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: stripCandidates(opts.offer) });
    } catch (err) {
      throw new SessionSetupError('bad_offer', `offer rejected: ${(err as Error).message}`);
    }
    const audio = this.pc.getTransceivers().find((t) => t.kind === 'audio');
    if (!audio) throw new SessionSetupError('bad_offer', 'offer has no audio section');
    if (!audio.codecs.some((c) => c.mimeType.toLowerCase() === 'audio/opus')) {
      throw new SessionSetupError('bad_offer', 'offer does not support Opus');
    }

    const iceTransport = this.pc.iceTransports[0];
    if (!iceTransport) throw new SessionSetupError('bad_offer', 'offer produced no ICE transport');
    const conn = iceTransport.connection as unknown as GuardedConnection;
    this.conn = conn;
    // The ufrag is the routing token relays verify. It must be set on the
    // connection itself: werift ignores or rejects edited answer SDP.
    conn.localUsername = encodeToken(opts.keyring, {
      routeId: opts.routeId,
      port: opts.port,
      expiresAt: Math.floor(opts.now() / 1000) + opts.maxSessionSeconds,
    });
    conn.localPassword = randomBytes(18).toString('base64');

    this.attachAgent(audio);
    try {
      await this.pipeline?.ready();
    } catch (err) {
      throw new SessionSetupError('internal', `agent unavailable: ${(err as Error).message}`);
    }
    // DTLS server unless the offer insists (see dtls-role.ts): saves werift's 100 ms client delay.
    for (const t of this.pc.dtlsTransports) t.role = dtlsRoleForOffer(opts.offer);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.installGuard(iceTransport.connection as unknown as { protocols: GuardProtocol[] });

    const local = this.pc.localDescription?.sdp;
    if (!local) throw new SessionSetupError('internal', 'no local description');
    this.armTimers();
    return answerWithRelayCandidate(local, opts.relay);
  }

  private installGuard(ice: { protocols: GuardProtocol[] }): void {
    const protocol = ice.protocols.find((p) => p.localCandidate?.port === this.opts.port);
    if (!protocol?.transport) {
      const bound = ice.protocols.map((p) => p.localCandidate?.port).join(',');
      throw new SessionSetupError(
        'internal',
        `ICE port ${this.opts.port} was not bound (bound: ${bound || 'none'})`,
      );
    }
    const conn = this.conn as GuardedConnection;
    this.unguard = guardIce(conn, protocol.transport, {
      onConsent: () => {
        this.lastConsentAt = this.opts.now();
        if (this.state === 'created') this.setState('connecting');
      },
      onRejected: (reason, addr) => this.opts.log.debug({ session: this.id, reason, addr }, 'stun rejected'),
      onPathChange: (from, to) =>
        this.opts.log.info(
          { session: this.id, from: fmt(from), to: fmt(to) },
          'media path moved to a new relay flow',
        ),
    });
  }

  private attachAgent(audio: RTCRtpTransceiver): void {
    const track = new MediaStreamTrack({ kind: 'audio' });
    this.outTrack = track;
    audio.setDirection('sendrecv');
    audio.sender.replaceTrack(track);
    this.pipeline = new VoicePipeline({
      sessionId: this.id,
      agent: this.opts.agent,
      sendRtp: (payload, timestamp, marker) => this.sendAudio(payload, timestamp, marker),
      emit: (e) => this.sendEvent(e),
      onAgentEnd: (reason) => {
        this.opts.log.warn({ session: this.id, reason }, 'agent ended the session');
        void this.close('agent_ended');
      },
      log: this.opts.log,
    });
  }

  /** JSON on the `events` channel; held (bounded) until it opens, dropped and counted past that. */
  private sendEvent(e: ClientEventBody): void {
    const json = JSON.stringify({ ...e, t: Math.round(this.opts.now() - this.createdAt) } as ClientEvent);
    if (this.events?.readyState === 'open') this.sendOnChannel(json);
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
    if (dc?.readyState !== 'open' || this.eventsSent === 0) return;
    const until = performance.now() + maxMs;
    // werift queues sends; one turn of the loop starts them, a few ms sees them out on loopback.
    do await new Promise((r) => setTimeout(r, 10));
    while (dc.bufferedAmount > 0 && performance.now() < until);
  }

  /** Our own sequence numbers; werift's sender stamps our own SSRC. */
  private sendAudio(payload: Buffer, timestamp: number, marker = false): void {
    if (this.state !== 'connected' || !this.outTrack) return;
    this.outSeq = (this.outSeq + 1) & 0xffff;
    const header = new RtpHeader({
      payloadType: OPUS_PAYLOAD_TYPE,
      sequenceNumber: this.outSeq,
      timestamp: timestamp >>> 0,
      marker,
    });
    this.outTrack.writeRtp(new RtpPacket(header, payload));
    this.packetsOut++;
  }

  private armTimers(): void {
    const { iceTimeoutMs, consentTimeoutMs, maxSessionSeconds } = this.opts;
    this.timers.push(
      setTimeout(() => {
        if (this.state !== 'connected') void this.close('ice_timeout');
      }, iceTimeoutMs),
    );
    // ice-lite never sends consent checks itself (RFC 7675 puts that on the
    // full agent), so consent is judged from the client's checks we verify.
    const tick = Math.min(1_000, consentTimeoutMs);
    this.timers.push(
      setInterval(() => {
        if (this.state === 'connected' && this.opts.now() - this.lastConsentAt > consentTimeoutMs) {
          void this.close('consent_lost');
        }
      }, tick),
    );
    this.timers.push(setTimeout(() => void this.close('expired'), maxSessionSeconds * 1000));
    for (const t of this.timers) t.unref();
  }

  private onConnectionState(s: string): void {
    if (s === 'connected' && this.state !== 'closed') this.setState('connected');
    else if ((s === 'failed' || s === 'closed') && this.state !== 'closed')
      void this.close('transport_failed');
  }

  private setState(state: SessionState): void {
    if (this.state === state || this.state === 'closed') return;
    this.state = state;
    this.opts.onStateChange?.(this, state);
  }

  /** Idempotent: releases the socket, timers and agent; the owner frees the port. */
  async close(reason: CloseReason): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.unguard?.();
    if (reason !== 'agent_ended' && reason !== 'setup_failed')
      this.sendEvent({ type: 'session.ended', reason });
    this.pipeline?.close();
    if (this.pipeline)
      this.opts.log.debug(
        { session: this.id, media: this.pipeline.stats, jitter: this.pipeline.jitter.stats },
        'session media',
      );
    this.outTrack?.stop();
    await this.flushEvents(150);
    try {
      await this.pc?.close();
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

interface GuardProtocol {
  localCandidate?: { port: number };
  transport?: GuardedTransport;
}

function fmt(a: Address): string {
  return `${a[0]}:${a[1]}`;
}
