import { initialRtpSequenceNumber } from '@parley/shared/srtp/initial-sequence.js';
import { SrtpSession } from '@parley/shared/srtp/srtp-context.js';
import { sessionCryptoEngine } from '@parley/shared/srtp/srtp-engine.js';
import { takeOverClientMedia } from '@parley/shared/webrtc/client-media-takeover.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import type { MediaPump, PumpSession, PumpSrtp } from './media-pump.js';

/**
 * The capacity bench's clients: real werift peers that signal through the
 * edge (or the bare werift baseline's HTTP endpoint), do ICE and DTLS, and
 * then hand their media to Parley's SRTP and a shared MediaPump. Sessions
 * stay up from the ramp until close(), so the hold phase is measured with
 * every session sending.
 */
export interface EchoFleetOptions {
  edgeUrl: string;
  token?: string;
  agent?: string;
  /** Connect to this ip:port instead of the answer's candidate (see CallOptions.connectTo). */
  connectTo?: { ip: string; port: number };
  setupTimeoutMs?: number;
  /** DTLS-SRTP profile ids the clients offer (default: werift's, both). */
  srtpProfiles?: readonly number[];
  pump: MediaPump;
}

export interface RampOptions {
  sessions: number;
  /** Setups started per second. */
  perSecond: number;
  /** Setups in flight at once (DTLS handshakes queue on both sides beyond this). */
  concurrency: number;
  /** Called about once a second while the ramp runs. */
  onProgress?: (p: { started: number; up: number; failed: number }) => void;
}

export class FleetSetupError extends Error {
  constructor(
    readonly stage: 'signaling' | 'ice' | 'dtls',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FleetSetupError';
  }
}

export interface FleetPackets {
  sent: number;
  /** Distinct probes echoed. */
  received: number;
  lost: number;
  /** Duplicates and echoes older than the pump's ring. */
  late: number;
  /** Echoes authenticated and decrypted (the pump's sample). */
  verified: number;
  authFailures: number;
  /** Verified echoes carrying another probe than their timestamp named. */
  mismatched: number;
  /** Echoes whose timestamp named no probe. */
  unmatched: number;
  /** Authenticated RTCP packets from the far end. */
  rtcp: number;
}

interface Member {
  pc: RTCPeerConnection;
  sessionUrl?: string;
  pumped?: PumpSession;
}

const CODECS = opusOnlyCodecs();

export class EchoFleet {
  private readonly members: Member[] = [];
  up = 0;
  failed = 0;
  /** Sessions that were up and then lost their connection. */
  dropped = 0;
  readonly failures: Record<string, number> = {};
  readonly failureExamples: Record<string, string> = {};
  /** Sessions per negotiated SRTP profile. */
  readonly profiles: Record<string, number> = {};
  private closing = false;
  private readonly opening = new Set<Promise<void>>();

  constructor(private readonly o: EchoFleetOptions) {}

  /** Opens `sessions` sessions at the given rate; resolves when each is up or has failed. */
  async ramp(r: RampOptions): Promise<void> {
    const interval = 1000 / r.perSecond;
    const t0 = performance.now();
    let started = 0;
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const progress = setInterval(() => r.onProgress?.({ started, up: this.up, failed: this.failed }), 1_000);
    const all: Promise<void>[] = [];
    try {
      for (let i = 0; i < r.sessions && !this.closing; i++) {
        const wait = t0 + i * interval - performance.now();
        if (wait > 0) await sleep(wait);
        while (inFlight >= r.concurrency && !this.closing) await new Promise<void>((res) => (wake = res));
        if (this.closing) break;
        inFlight++;
        started++;
        const opened = this.open().finally(() => {
          this.opening.delete(opened);
          inFlight--;
          wake?.();
          wake = undefined;
        });
        this.opening.add(opened);
        all.push(opened);
      }
      await Promise.all(all);
    } finally {
      clearInterval(progress);
    }
    r.onProgress?.({ started, up: this.up, failed: this.failed });
  }

  /** Stops every session's sends (echoes in flight still count). */
  pause(): void {
    for (const m of this.members) if (m.pumped) this.o.pump.pause(m.pumped);
  }

  /** Totals over every session that came up. */
  packets(): FleetPackets {
    const t: FleetPackets = {
      sent: 0,
      received: 0,
      lost: 0,
      late: 0,
      verified: 0,
      authFailures: 0,
      mismatched: 0,
      unmatched: 0,
      rtcp: 0,
    };
    for (const m of this.members) {
      const p = m.pumped;
      if (!p) continue;
      t.sent += p.sent;
      t.received += p.received;
      t.late += p.late;
      t.verified += p.verified;
      t.authFailures += p.authFailures;
      t.mismatched += p.mismatched;
      t.unmatched += p.unmatched;
      t.rtcp += p.rtcp;
    }
    t.lost = t.sent - t.received;
    return t;
  }

  /** DELETE every session and close every peer, a few at a time, each bounded in time. */
  async close(concurrency = 32): Promise<void> {
    // No new setups; the ones under way finish or time out (setupTimeoutMs) and are closed with the rest.
    this.closing = true;
    await Promise.all([...this.opening]);
    const queue = this.members.splice(0);
    const worker = async () => {
      for (let m = queue.pop(); m; m = queue.pop()) {
        if (m.pumped) this.o.pump.remove(m.pumped);
        if (m.sessionUrl) {
          await fetch(m.sessionUrl, {
            method: 'DELETE',
            headers: this.o.token ? { authorization: `Bearer ${this.o.token}` } : {},
            signal: AbortSignal.timeout(5_000),
          }).catch(() => undefined);
        }
        await withTimeout(m.pc.close(), 5_000).catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  private fail(err: unknown): void {
    this.failed++;
    const e = err as Error;
    const key =
      e instanceof FleetSetupError
        ? `${e.stage}${/ answered (\d+)/.exec(e.message)?.[1] ? ` ${/ answered (\d+)/.exec(e.message)?.[1]}` : ''}`
        : 'other';
    this.failures[key] = (this.failures[key] ?? 0) + 1;
    this.failureExamples[key] ??= e.message;
  }

  private async open(): Promise<void> {
    const o = this.o;
    const setupTimeoutMs = o.setupTimeoutMs ?? 20_000;
    const pc = new RTCPeerConnection({ codecs: CODECS, iceServers: [] });
    const member: Member = { pc };
    this.members.push(member);
    try {
      const t = pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
      // Our RTP carries the SSRC the offer declares: werift peers route inbound RTP by it.
      const ssrc = t.sender.ssrc;
      let settle!: (err?: Error) => void;
      const connected = new Promise<void>((resolve, reject) => {
        settle = (err) => (err ? reject(err) : resolve());
      });
      // A setup that fails before waiting for it (e.g. a 503) still closes the peer later, which
      // rejects this: never an unhandled rejection.
      connected.catch(() => {});
      let wasUp = false;
      pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') settle();
        else if (s === 'failed' || s === 'closed') {
          settle(new FleetSetupError('dtls', `connection ${s}`));
          if (wasUp && s === 'failed') {
            wasUp = false;
            this.up--;
            this.dropped++;
            if (member.pumped) o.pump.pause(member.pumped);
          }
        }
      });
      await pc.setLocalDescription(await pc.createOffer());
      takeOverClientMedia(
        pc,
        (keys, path) => {
          this.profiles[keys.profile] = (this.profiles[keys.profile] ?? 0) + 1;
          // Not libsrtp2: Debian's libsrtp2 runs on NSS, whose per-packet cost grows with the
          // contexts alive in the process (GCM protect: 1.6 µs at 100, 7.7 at 600, 12.8 at 1200),
          // and a generator holds two per session. OpenSSL EVP (native/evp, one context per key)
          // when built, else node:crypto; SrtpSession's *Into forms keep the pump allocation-free.
          const engine = sessionCryptoEngine();
          const outbound: PumpSrtp = new SrtpSession(keys.profile, keys.localKey, keys.localSalt, { engine });
          const inbound: PumpSrtp = new SrtpSession(keys.profile, keys.remoteKey, keys.remoteSalt, {
            engine,
          });
          const pumped = o.pump.add(
            { outbound, inbound, send: (d) => path.send(d) },
            ssrc,
            initialRtpSequenceNumber(),
            Math.floor(Math.random() * 0xffffffff),
          );
          member.pumped = pumped;
          path.onMedia((data) => pumped.receive(data, performance.now()));
        },
        o.srtpProfiles ? { srtpProfiles: o.srtpProfiles } : {},
      );
      const url = new URL('/v1/sessions', o.edgeUrl);
      url.searchParams.set('agent', o.agent ?? 'rtp-echo');
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/sdp',
            ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          },
          body: pc.localDescription?.sdp as string,
          signal: AbortSignal.timeout(setupTimeoutMs),
        });
      } catch (cause) {
        throw new FleetSetupError('signaling', `edge unreachable: ${(cause as Error).message}`, { cause });
      }
      const body = await res.text();
      if (res.status !== 201)
        throw new FleetSetupError('signaling', `edge answered ${res.status}: ${body.slice(0, 200)}`);
      member.sessionUrl = new URL(res.headers.get('location') ?? '', o.edgeUrl).toString();
      const answer = o.connectTo
        ? body.replace(/^(a=candidate:\S+ \d+ udp \d+ )\S+ \d+/gim, `$1${o.connectTo.ip} ${o.connectTo.port}`)
        : body;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await withTimeout(connected, setupTimeoutMs).catch((err: Error) => {
        throw err instanceof FleetSetupError
          ? err
          : new FleetSetupError('dtls', `not connected within ${setupTimeoutMs} ms`);
      });
      if (!member.pumped) throw new FleetSetupError('dtls', 'connected without SRTP keys');
      wasUp = true;
      this.up++;
    } catch (err) {
      this.fail(err);
      if (member.pumped) o.pump.remove(member.pumped);
      member.pumped = undefined;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
