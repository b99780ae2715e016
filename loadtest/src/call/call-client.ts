import { initialRtpSequenceNumber } from '@parley/shared/srtp/initial-sequence.js';
import { isRtcp, rtpHeaderLength } from '@parley/shared/srtp/rtp-header.js';
import { createSrtpTransform, type SrtpTransform } from '@parley/shared/srtp/srtp-engine.js';
import { type RawMediaPath, takeOverClientMedia } from '@parley/shared/webrtc/client-media-takeover.js';
import type { SrtpKeyingMaterial } from '@parley/shared/webrtc/lite-peer.js';
import { OPUS_PAYLOAD_TYPE, opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import { makeProbe, PROBE_PAYLOAD_BYTES, readProbe } from './probe-payload.js';
import {
  noticeEndsCall,
  type SessionEndedNotice,
  type SessionEventsWatch,
  watchSessionEvents,
} from './session-events-client.js';
import { round, summarize } from './stats.js';

export interface CallOptions {
  /** Edge base URL, e.g. http://127.0.0.1:8080 */
  edgeUrl: string;
  token?: string;
  seconds: number;
  /** Packets per second each way (50 = 20 ms Opus frames). */
  packetRate?: number;
  payloadBytes?: number;
  /** Give up on setup after this long. */
  setupTimeoutMs?: number;
  /**
   * Default `rtp-echo`: the transceiver reflects each probe byte for byte, so
   * RTT is the transport's (relay + transceiver). A PCM agent such as `echo`
   * re-encodes audio; its echoes are then matched to probes by arrival order.
   */
  agent?: string;
  /**
   * Connect to this ip:port instead of the answer's candidate (the relay):
   * the capacity bench measures the transceiver alone, its relay being
   * measured by the relay bench, so on a 2-core machine the relay does not
   * share the load generator's core.
   */
  connectTo?: { ip: string; port: number };
  /** The edge's SDP answer, as received (tools and tests that inspect it, e.g. its ICE ufrag). */
  onAnswer?: (sdp: string) => void;
  /** The first RTP sequence number (random by default); tests start near 65535 to cross the wrap. */
  firstSequenceNumber?: number;
  /** Called while media flows, about once a second. */
  onProgress?: (p: { sent: number; received: number; lastRttMs?: number }) => void;
  /** Called once when DTLS is up, with the setup stages so far (ms from the start of the call). */
  onConnected?: (setupMs: { signaling: number; iceConnected: number; dtlsConnected: number }) => void;
  /** Called with every echo's round-trip time (ms), for load tools that pool samples across calls. */
  onEcho?: (rttMs: number) => void;
  /**
   * Force ICE-TCP (RFC 6544): the answer's UDP candidates are dropped, so
   * the call goes through the relay's TCP port (werift connects as the
   * active side, RFC 4571 framing), as a client behind a UDP-blocking
   * firewall would.
   */
  tcp?: boolean;
  /**
   * Watch the session's event stream on the edge (`<session URL>/events`):
   * a `session.ended` there (e.g. `transceiver_lost` when its core region
   * died) fails the call at stage `ended` with the reason.
   */
  watchEvents?: boolean;
  /** Called once with the edge's session.ended notice, with the wall-clock time it arrived (Date.now()). */
  onSessionEnded?: (notice: SessionEndedNotice, receivedAt: number) => void;
}

export interface CallResult {
  sessionUrl: string;
  setupMs: { signaling: number; iceConnected: number; dtlsConnected: number; firstAudio: number };
  rttMs: { p50: number; p95: number; p99: number };
  packets: { sent: number; received: number; lost: number };
  /** Interarrival jitter of the echoes (RFC 3550 style, ms). */
  jitterMs: number;
  /** Longest silence between two echoes while media flowed (a relay restart shows here). */
  maxGapMs: number;
  remoteCandidate: string;
  /** Transport of the nominated candidate pair. */
  transport: 'udp' | 'tcp';
}

export class CallError extends Error {
  constructor(
    readonly stage: 'signaling' | 'ice' | 'dtls' | 'media' | 'ended',
    message: string,
    readonly status?: number,
    /** At stage `ended`: the edge's session.ended notice. */
    readonly ended?: SessionEndedNotice,
  ) {
    super(message);
  }
}

const CODECS = opusOnlyCodecs();

/**
 * One real WebRTC call through the edge and relay: POST the offer, connect,
 * send RTP probes (valid Opus silence with a sequence number in the padding),
 * time the echoes, DELETE the session.
 */
export async function runCall(opts: CallOptions): Promise<CallResult> {
  const rate = opts.packetRate ?? 50;
  const setupTimeoutMs = opts.setupTimeoutMs ?? 15_000;
  const pc = new RTCPeerConnection({ codecs: CODECS, iceServers: [], ...(opts.tcp && { iceUseTcp: true }) });
  let sessionUrl = '';
  let events: SessionEventsWatch | undefined;
  let endedNotice: SessionEndedNotice | undefined;
  let lastEchoAt = Number.NaN;
  const failIfEnded = () => {
    if (endedNotice && noticeEndsCall(endedNotice.reason, performance.now() - lastEchoAt))
      throw new CallError(
        'ended',
        `the service ended the session: ${endedNotice.reason}`,
        undefined,
        endedNotice,
      );
  };
  try {
    const out = new MediaStreamTrack({ kind: 'audio' });
    // Our RTP carries the SSRC the offer declares: werift peers route inbound RTP by it.
    const rtpTransceiver = pc.addTransceiver(out, { direction: 'sendrecv' });
    const ssrc = rtpTransceiver.sender.ssrc;
    const t0 = performance.now();
    const stages = {
      signaling: Number.NaN,
      iceConnected: Number.NaN,
      dtlsConnected: Number.NaN,
      firstAudio: Number.NaN,
    };
    const iceUp = new Promise<void>((resolve) => {
      pc.iceConnectionStateChange.subscribe((s) => {
        // werift also reports 'completed' when local gathering ends, so only 'connected' counts.
        if (s === 'connected' && Number.isNaN(stages.iceConnected)) {
          stages.iceConnected = performance.now() - t0;
          resolve();
        }
      });
    });
    const dtlsUp = new Promise<void>((resolve, reject) => {
      pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') {
          stages.dtlsConnected = performance.now() - t0;
          resolve();
        } else if (s === 'failed') reject(new CallError('dtls', 'connection failed'));
      });
    });

    const sentAt = new Map<number, number>();
    const rtts: number[] = [];
    const received = new Set<number>();
    let firstEchoTs: number | undefined;
    let lastTransit = Number.NaN;
    let lastArrival = Number.NaN;
    let maxGap = 0;
    let jitter = 0;
    let firstAudio!: () => void;
    const firstAudioSeen = new Promise<void>((r) => {
      firstAudio = r;
    });
    const onEcho = (payload: Buffer, timestamp: number): void => {
      const now = performance.now();
      if (Number.isNaN(stages.firstAudio)) {
        stages.firstAudio = now - t0;
        firstAudio();
      }
      // A reflected probe names itself. Re-encoded audio (a PCM agent) carries the media clock of
      // the audio it echoes, 960 ticks per probe, counted from the first echo (probe 0's).
      let seq = readProbe(payload);
      if (seq === undefined) {
        firstEchoTs ??= timestamp;
        seq = ((timestamp - firstEchoTs) >>> 0) / 960;
        if (!Number.isInteger(seq) || seq > 0x7fffffff) return;
      }
      lastEchoAt = now;
      if (received.has(seq)) return;
      received.add(seq);
      if (!Number.isNaN(lastArrival)) maxGap = Math.max(maxGap, now - lastArrival);
      lastArrival = now;
      const sent = sentAt.get(seq);
      if (sent !== undefined) {
        const transit = now - sent;
        rtts.push(transit);
        opts.onEcho?.(transit);
        if (!Number.isNaN(lastTransit)) jitter += (Math.abs(transit - lastTransit) - jitter) / 16;
        lastTransit = transit;
      }
    };

    await pc.setLocalDescription(await pc.createOffer());
    // After DTLS, media runs on Parley's own SRTP (as on the transceiver): werift's per-packet
    // path would make one generator core the limit of any capacity measurement.
    let media: { send(seq: number, timestamp: number, payload: Buffer): void } | undefined;
    if (opts.tcp) {
      // Parley's media takeover moves a UDP pair onto the native socket; over TCP, werift's own
      // SRTP path carries the (few) packets of one call.
      media = weriftMedia(out, ssrc);
      rtpTransceiver.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) => onEcho(rtp.payload, rtp.header.timestamp)),
      );
    } else {
      takeOverClientMedia(pc, (keys, path) => {
        media = new ClientMedia(keys, path, ssrc, onEcho);
      });
    }
    // werift gathers host candidates during setLocalDescription; the offer is complete now.
    const offer = pc.localDescription?.sdp as string;
    const url = new URL('/v1/sessions', opts.edgeUrl);
    url.searchParams.set('agent', opts.agent ?? 'rtp-echo');
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/sdp',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
        body: offer,
        signal: AbortSignal.timeout(setupTimeoutMs),
      });
    } catch (e) {
      throw new CallError('signaling', `edge unreachable at ${opts.edgeUrl}: ${(e as Error).message}`);
    }
    const body = await res.text();
    if (res.status !== 201) {
      let detail = body;
      try {
        detail = JSON.parse(body).detail ?? body;
      } catch {}
      throw new CallError('signaling', `edge answered ${res.status}: ${detail}`, res.status);
    }
    sessionUrl = new URL(res.headers.get('location') ?? '', opts.edgeUrl).toString();
    stages.signaling = performance.now() - t0;
    if (opts.watchEvents) {
      events = watchSessionEvents(sessionUrl, opts.token);
      void events.ended.then((n) => {
        if (!n) return;
        endedNotice = n;
        opts.onSessionEnded?.(n, Date.now());
      });
    }
    opts.onAnswer?.(body);
    let answer = opts.connectTo ? replaceCandidateAddress(body, opts.connectTo) : body;
    if (opts.tcp) {
      answer = dropUdpCandidates(answer);
      if (!/^a=candidate:\S+ \d+ tcp /im.test(answer))
        throw new CallError(
          'ice',
          'the answer carries no TCP candidate (the edge sets none: PARLEY_RELAY_TCP_ADVERTISE)',
        );
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });

    await withTimeout(
      iceUp,
      setupTimeoutMs,
      new CallError('ice', `ICE did not connect within ${setupTimeoutMs} ms`),
    );
    await withTimeout(
      dtlsUp,
      setupTimeoutMs,
      new CallError('dtls', `DTLS did not connect within ${setupTimeoutMs} ms`),
    );
    opts.onConnected?.({
      signaling: stages.signaling,
      iceConnected: stages.iceConnected,
      dtlsConnected: stages.dtlsConnected,
    });

    // Media: probes at a steady rate; timestamps advance 960 (20 ms at 48 kHz).
    const total = Math.max(1, Math.round(opts.seconds * rate));
    const interval = 1000 / rate;
    const payloadBytes = opts.payloadBytes ?? PROBE_PAYLOAD_BYTES;
    let seq = (opts.firstSequenceNumber ?? initialRtpSequenceNumber()) - 1;
    let ts = Math.floor(Math.random() * 0xffffffff);
    const start = performance.now();
    let lastProgress = start;
    for (let i = 0; i < total; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      failIfEnded();
      seq = (seq + 1) & 0xffff;
      ts = (ts + 960) >>> 0;
      sentAt.set(i, performance.now());
      media?.send(seq, ts, makeProbe(i, payloadBytes));
      if (opts.onProgress && performance.now() - lastProgress > 1000) {
        lastProgress = performance.now();
        opts.onProgress({ sent: i + 1, received: received.size, lastRttMs: rtts.at(-1) });
      }
    }
    const agent = opts.agent ?? 'rtp-echo';
    await withTimeout(
      firstAudioSeen,
      2_000,
      new CallError(
        'media',
        agent === 'rtp-echo' || agent === 'echo'
          ? 'no audio came back from the agent'
          : `no audio came back from the agent: "${agent}" answers speech, and the probes are silence (use --agent echo or rtp-echo)`,
      ),
    );
    // Let the last echoes arrive: a couple of RTTs, at least 300 ms.
    const grace = Math.max(300, 3 * (summarize(rtts).p99 || 100));
    const waitUntil = performance.now() + grace;
    while (received.size < total && performance.now() < waitUntil) await sleep(10);
    failIfEnded();

    const pair = pc.iceTransports[0]?.connection.nominated;
    const remoteCandidate = pair ? `${pair.remoteCandidate.host}:${pair.remoteCandidate.port}` : '';
    const transport = pair?.remoteCandidate.transport.toLowerCase() === 'tcp' ? 'tcp' : 'udp';
    const r = summarize(rtts);
    return {
      sessionUrl,
      setupMs: {
        signaling: round(stages.signaling),
        iceConnected: round(stages.iceConnected),
        dtlsConnected: round(stages.dtlsConnected),
        firstAudio: round(stages.firstAudio),
      },
      rttMs: { p50: round(r.p50), p95: round(r.p95), p99: round(r.p99) },
      packets: { sent: total, received: received.size, lost: total - received.size },
      jitterMs: round(jitter),
      maxGapMs: round(maxGap),
      remoteCandidate,
      transport,
    };
  } finally {
    // Our own DELETE below would end the session too: stop listening first.
    events?.stop();
    if (sessionUrl) {
      await fetch(sessionUrl, {
        method: 'DELETE',
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        signal: AbortSignal.timeout(5_000),
      }).catch(() => undefined);
    }
    await pc.close().catch(() => undefined);
  }
}

/** The call's media on Parley's SRTP over werift's nominated socket. */
class ClientMedia {
  private readonly outbound: SrtpTransform;
  private readonly inbound: SrtpTransform;
  private readonly header = Buffer.alloc(12);

  constructor(
    keys: SrtpKeyingMaterial,
    private readonly path: RawMediaPath,
    private readonly ssrc: number,
    onRtp: (payload: Buffer, timestamp: number) => void,
  ) {
    this.outbound = createSrtpTransform(keys.profile, keys.localKey, keys.localSalt);
    this.inbound = createSrtpTransform(keys.profile, keys.remoteKey, keys.remoteSalt);
    path.onMedia((data) => {
      // RTCP (the transceiver's reports) is authenticated and otherwise ignored here.
      if (isRtcp(data)) {
        this.inbound.unprotectRtcp(data);
        return;
      }
      const plain = this.inbound.unprotectRtp(data);
      const at = plain ? rtpHeaderLength(plain) : -1;
      if (plain && at >= 0) onRtp(plain.subarray(at), plain.readUInt32BE(4));
    });
  }

  send(seq: number, timestamp: number, payload: Buffer): void {
    const h = this.header;
    h[0] = 0x80;
    h[1] = OPUS_PAYLOAD_TYPE;
    h.writeUInt16BE(seq, 2);
    h.writeUInt32BE(timestamp >>> 0, 4);
    h.writeUInt32BE(this.ssrc, 8);
    this.path.send(this.outbound.protectRtp(Buffer.concat([h, payload])));
  }
}

/** werift's own media path (used over ICE-TCP): RTP handed to the track, protected by werift. */
function weriftMedia(track: MediaStreamTrack, ssrc: number) {
  const header = Buffer.alloc(12);
  return {
    send(seq: number, timestamp: number, payload: Buffer): void {
      header[0] = 0x80;
      header[1] = OPUS_PAYLOAD_TYPE;
      header.writeUInt16BE(seq, 2);
      header.writeUInt32BE(timestamp >>> 0, 4);
      header.writeUInt32BE(ssrc, 8);
      track.writeRtp(Buffer.concat([header, payload]));
    },
  };
}

/** Removes the UDP candidates of an answer (forcing ICE-TCP). */
function dropUdpCandidates(sdp: string): string {
  return sdp.replace(/^a=candidate:\S+ \d+ udp [^\r\n]*\r?\n/gim, '');
}

/** Points every candidate of an answer at `to` (one candidate: the relay's). */
function replaceCandidateAddress(sdp: string, to: { ip: string; port: number }): string {
  return sdp.replace(/^(a=candidate:\S+ \d+ udp \d+ )\S+ \d+/gim, `$1${to.ip} ${to.port}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number, err: Error): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(err), ms);
    }),
  ]);
}
