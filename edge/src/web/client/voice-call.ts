import { type QualitySample, readQuality, type StatsEntry } from './call-stats.js';
import { asCallFailure, CallFailure } from './failures.js';
import { relayFromAnswer } from './relay-candidate.js';
import { noticeEndsCall, type SessionEnded, watchSessionEndWhileLive } from './session-end-stream.js';
import { createSession, endSession, restartSessionIce, type SignalingTarget } from './signaling.js';
import type { Stage } from './waterfall.js';

export type CallStatus = 'connecting' | 'connected' | 'reconnecting' | 'ended';

export interface VoiceCallOptions extends SignalingTarget {
  /** An open microphone stream; the call sends its first audio track. */
  microphone: MediaStream;
  /** Which agent the transceiver should run (`?agent=`); the edge's default otherwise. */
  agent?: string;
  /** Monotonic clock, ms. */
  now?: () => number;
  /**
   * How long ICE, and then DTLS, may take. Shorter than the transceiver's
   * 10 s ICE timeout, so the page gives up and DELETEs the session first.
   */
  connectTimeoutMs?: number;
  /** Aborting cancels a call that is still being set up. */
  signal?: AbortSignal;
  /** Each setup stage, once, with the ms since the start of the call (just before the offer). */
  onStage?(stage: Stage, ms: number): void;
  /** The edge placed the session: its URL and the relay the answer names. */
  onSession?(session: { sessionUrl: string; relay?: string }): void;
  onRemoteStream?(stream: MediaStream): void;
  /** A message on the `events` data channel (the agent's JSON events). */
  onEvent?(data: unknown): void;
  onStatus?(status: CallStatus): void;
  /** The call failed after it had connected, and has been ended. */
  onDropped?(failure: CallFailure): void;
}

export const EVENTS_CHANNEL = 'events';
const DEFAULT_CONNECT_TIMEOUT_MS = 8_000;
const HANGUP_DELETE_WAIT_MS = 3_000;

/**
 * One browser call through Parley: microphone up, agent audio down, and an
 * `events` data channel for the agent's JSON events. The offer goes to the
 * edge WHIP-style without waiting for candidates: the transceiver ignores
 * them and the answer names the relay as the only place to send media.
 */
export class VoiceCall {
  /** Clock time just before the offer was made: the waterfall's zero. */
  readonly startedAt: number;
  sessionUrl?: string;
  /** The relay address from the answer, `ip:port`. */
  relay?: string;
  private readonly pc: RTCPeerConnection;
  private readonly now: () => number;
  private readonly reached = new Set<Stage>();
  private setup?: {
    resolve: () => void;
    reject: (f: CallFailure) => void;
    timer?: ReturnType<typeof setTimeout>;
  };
  private ended = false;
  private released = false;
  private restarting?: Promise<void>;
  /** Stops the session's event stream on the edge (see watchEnd). */
  private readonly endWatch = new AbortController();

  private constructor(private readonly opts: VoiceCallOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.startedAt = this.now();
  }

  /** Resolves once ICE and DTLS are connected; rejects with a CallFailure. */
  static async start(opts: VoiceCallOptions): Promise<VoiceCall> {
    const call = new VoiceCall(opts);
    try {
      await call.connect();
      opts.onStatus?.('connected');
      return call;
    } catch (err) {
      await call.hangUp();
      throw asCallFailure(err);
    }
  }

  private async connect(): Promise<void> {
    const { pc, opts } = this;
    const track = opts.microphone.getAudioTracks()[0];
    if (!track) throw new CallFailure('no-mic', { detail: 'the microphone stream has no audio track' });
    opts.onStatus?.('connecting');
    pc.addTransceiver(track, { direction: 'sendrecv', streams: [opts.microphone] });
    const events = pc.createDataChannel(EVENTS_CHANNEL);
    events.addEventListener('message', (e) => opts.onEvent?.(e.data));
    pc.addEventListener('track', (e) => this.onTrack(e));
    pc.addEventListener('iceconnectionstatechange', () => this.onIceState());
    pc.addEventListener('connectionstatechange', () => this.onConnectionState());
    const connected = new Promise<void>((resolve, reject) => {
      this.setup = { resolve, reject };
    });
    // A failure before anyone awaits must not surface as an unhandled rejection.
    connected.catch(() => undefined);
    const onAbort = () => this.fail(new CallFailure('cancelled'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      await pc.setLocalDescription(await pc.createOffer());
      const session = await createSession(opts, {
        offer: pc.localDescription?.sdp ?? '',
        ...(opts.agent && { agent: opts.agent }),
        ...(opts.signal && { signal: opts.signal }),
      });
      this.sessionUrl = session.sessionUrl;
      this.mark('signaling');
      if (this.ended) throw new CallFailure('cancelled');
      this.relay = relayFromAnswer(session.answer);
      opts.onSession?.({ sessionUrl: session.sessionUrl, ...(this.relay && { relay: this.relay }) });
      this.watchEnd(session.sessionUrl);
      await pc.setRemoteDescription({ type: 'answer', sdp: session.answer });
      this.watchDtls();
      this.armSetupTimer('ice');
      await connected;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (this.setup?.timer) clearTimeout(this.setup.timer);
      this.setup = undefined;
    }
  }

  private onTrack(e: RTCTrackEvent): void {
    this.opts.onRemoteStream?.(e.streams[0] ?? new MediaStream([e.track]));
    // A remote track starts muted and unmutes when its first RTP packet arrives.
    if (!e.track.muted) this.mark('audio');
    else e.track.addEventListener('unmute', () => this.mark('audio'), { once: true });
  }

  private onIceState(): void {
    const s = this.pc.iceConnectionState;
    if (s === 'connected' || s === 'completed') {
      this.mark('ice');
      if (!this.setup) this.opts.onStatus?.('connected');
    } else if (s === 'disconnected' && !this.setup && !this.ended) {
      // Consent checks keep going (a relay restart recovers so), and an ICE restart
      // finds the new path if our network changed (WHIP PATCH).
      this.opts.onStatus?.('reconnecting');
      this.restartIce();
    } else if (s === 'failed' && !this.setup && !this.ended) {
      this.restartIce(() => this.fail(new CallFailure('connection-lost')));
    } else if (s === 'failed') {
      this.fail(
        this.setup
          ? new CallFailure('ice-failed', this.relay ? { relay: this.relay } : {})
          : new CallFailure('connection-lost'),
      );
    }
  }

  private onConnectionState(): void {
    const s = this.pc.connectionState;
    // Browsers without RTCDtlsTransport events still report the combined state.
    if (s === 'connected') this.mark('dtls');
    else if (s === 'failed') {
      if (!this.setup) this.restartIce(() => this.fail(new CallFailure('connection-lost')));
      else if (this.reached.has('ice')) this.fail(new CallFailure('dtls-failed'));
      else this.fail(new CallFailure('ice-failed', this.relay ? { relay: this.relay } : {}));
    }
  }

  /**
   * ICE restart after a network change (RFC 9725 §4.3.2): new local credentials
   * and candidates, PATCHed to the session; DTLS and the conversation stay.
   * One at a time; `onError` runs if the restart itself fails.
   */
  restartIce(onError?: () => void): void {
    if (this.ended || this.setup || this.restarting || !this.sessionUrl) return;
    const { pc } = this;
    const url = this.sessionUrl;
    this.restarting = (async () => {
      pc.restartIce();
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      const sdp = pc.localDescription?.sdp ?? '';
      const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? '';
      const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1] ?? '';
      const server = await restartSessionIce(this.opts, url, { ufrag, pwd });
      const answer = (pc.currentRemoteDescription?.sdp ?? '')
        .replace(/^a=ice-ufrag:.*$/gm, `a=ice-ufrag:${server.ufrag}`)
        .replace(/^a=ice-pwd:.*$/gm, `a=ice-pwd:${server.pwd}`);
      if (!this.ended) await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    })()
      .catch(() => onError?.())
      .finally(() => {
        this.restarting = undefined;
      });
  }

  /**
   * The edge's `session.ended` (GET <session URL>/events): the one way to
   * hear that the transceiver, or its whole region, died, since the data
   * channel goes silent with it. Shown like a data-channel event, then the
   * call ends with the reason.
   */
  private watchEnd(sessionUrl: string): void {
    void watchSessionEndWhileLive(
      this.opts,
      sessionUrl,
      (e) => void this.onEndNotice(e),
      this.endWatch.signal,
    );
  }

  /**
   * Ends the call on the edge's notice, except a `transceiver_lost` while the
   * agent's audio still flows (see noticeEndsCall): then it checks again
   * every half second and ends only once the audio stops or the path drops.
   */
  private async onEndNotice(e: SessionEnded): Promise<void> {
    if (this.ended) return;
    this.opts.onEvent?.(JSON.stringify(e));
    for (;;) {
      const q = await this.quality().catch(() => undefined);
      if (this.ended) return;
      const ice = this.pc.iceConnectionState;
      const connected = ice === 'connected' || ice === 'completed';
      if (noticeEndsCall(e.reason, { connected, silentMs: q?.silentMs })) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // The session is gone on the server: nothing left to DELETE.
    this.released = true;
    this.fail(new CallFailure('session-ended', { detail: e.reason }));
  }

  private watchDtls(): void {
    const dtls = this.pc.getSenders()[0]?.transport;
    if (!dtls) return;
    const check = () => {
      if (dtls.state === 'connected') this.mark('dtls');
      else if (dtls.state === 'failed') this.fail(new CallFailure('dtls-failed'));
    };
    dtls.addEventListener('statechange', check);
    check();
  }

  private mark(stage: Stage): void {
    if (this.ended || this.reached.has(stage)) return;
    this.reached.add(stage);
    this.opts.onStage?.(stage, this.now() - this.startedAt);
    if (stage === 'ice' && this.setup && !this.reached.has('dtls')) this.armSetupTimer('dtls');
    if (this.setup && this.reached.has('ice') && this.reached.has('dtls')) this.setup.resolve();
  }

  /** Bounds each setup stage, so a blocked path ends in a message instead of a spinner. */
  private armSetupTimer(stage: 'ice' | 'dtls'): void {
    const setup = this.setup;
    if (!setup) return;
    if (setup.timer) clearTimeout(setup.timer);
    const ms = this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const seconds = Math.round(ms / 1000);
    setup.timer = setTimeout(() => {
      if (stage === 'ice') {
        this.fail(
          new CallFailure('ice-failed', {
            ...(this.relay && { relay: this.relay }),
            detail: `no ICE connection within ${seconds} s`,
          }),
        );
      } else this.fail(new CallFailure('dtls-failed', { detail: `no DTLS connection within ${seconds} s` }));
    }, ms);
  }

  private fail(f: CallFailure): void {
    if (this.ended) return;
    if (this.setup) {
      this.setup.reject(f);
      return;
    }
    void this.hangUp().then(() => this.opts.onDropped?.(f));
  }

  /** The current quality reading. */
  async quality(): Promise<QualitySample> {
    const report = await this.pc.getStats();
    return readQuality([...report.values()] as StatsEntry[]);
  }

  /** Ends the call: DELETE the session (so the transceiver frees it at once), then close. Idempotent. */
  async hangUp(): Promise<void> {
    const first = !this.ended;
    this.ended = true;
    // Our own DELETE ends the session too; that is no news for the stream to bring.
    this.endWatch.abort();
    if (first) this.setup?.reject(new CallFailure('cancelled'));
    // Also on a repeat call: a session created while a cancel was under way still needs its DELETE.
    await this.releaseSession();
    if (!first) return;
    this.pc.close();
    this.opts.onStatus?.('ended');
  }

  private async releaseSession(): Promise<void> {
    const url = this.sessionUrl;
    if (!url || this.released) return;
    this.released = true;
    await Promise.race([
      endSession(this.opts, url),
      new Promise((r) => setTimeout(r, HANGUP_DELETE_WAIT_MS)),
    ]);
  }

  /** For `pagehide`: a keepalive DELETE that outlives the page, and close now. */
  hangUpOnUnload(): void {
    if (this.ended) return;
    this.ended = true;
    this.endWatch.abort();
    if (this.sessionUrl && !this.released) {
      this.released = true;
      void endSession(this.opts, this.sessionUrl, { keepalive: true });
    }
    this.pc.close();
  }
}
