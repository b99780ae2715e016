import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { OfferReply, SessionInfoReply } from '@parley/shared/nats/schemas.js';
import { offerSubject, sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import {
  MediaStreamTrack,
  type RTCDataChannel,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
} from '@parley/shared/webrtc/werift-client.js';
import type { AgentFactory } from '../../src/agent/agent.js';
import { loadTransceiverConfig } from '../../src/config.js';
import { OpusDecoder, OpusEncoder } from '../../src/media/opus-codec.js';
import { Resampler } from '../../src/media/resampler.js';
import { startTransceiver, type TransceiverProcess } from '../../src/transceiver-process.js';

const KEY = Buffer.alloc(32, 5).toString('base64');
const CODECS = opusOnlyCodecs();
export const FRAME = 960;

/** nats-server + one transceiver in this process, with the given agents. */
export interface Harness {
  tx: TransceiverProcess;
  nc: NatsConnection;
  close(): Promise<void>;
}

export async function startHarness(
  agents?: ReadonlyMap<string, AgentFactory>,
  env: Record<string, string> = {},
): Promise<Harness> {
  const nats = await NatsServerProcess.start();
  const icePort = await freeUdpPort();
  const config = loadTransceiverConfig({
    NATS_URL: nats.url,
    PARLEY_TRANSCEIVER_ID: `tx-voice-${process.pid}`,
    PARLEY_TOKEN_KEYS: `1:${KEY}`,
    PARLEY_ICE_PORT: String(icePort),
    PARLEY_CAPACITY: '4',
    ...env,
  });
  const tx = await startTransceiver(config, createLogger('tx', 'silent'), agents);
  const nc = await connect({ servers: nats.url });
  return {
    tx,
    nc,
    close: async () => {
      await tx.close();
      await nc.close();
      await nats.stop();
    },
  };
}

export interface Received {
  seq: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
  at: number;
}

/** A real werift client on a real session (straight to the transceiver's port, no relay). */
export interface TestCall {
  sessionId: string;
  received: Received[];
  events: Record<string, unknown>[];
  /** Send times (performance.now) of frames sent with sendPcm, by frame index. */
  sentAt: number[];
  /** Sends PCM (48 kHz mono) as Opus in 20 ms packets, paced in real time. */
  sendPcm(pcm: Int16Array): Promise<void>;
  /** Sends one raw RTP payload (for malformed-input tests). */
  sendRaw(payload: Buffer): void;
  waitForEvent(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Waits for the first event matching `pred` after `skip` events. */
  waitFor(
    pred: (e: Record<string, unknown>) => boolean,
    timeoutMs?: number,
    skip?: number,
  ): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Asks the harness's transceiver for a session, as the edge would over NATS, and returns its
 * SDP answer; a refusal throws with the transceiver's message.
 */
export async function placeSession(
  h: Harness,
  req: { sessionId: string; offer: string | undefined; relay: { ip: string; port: number }; agent?: string },
): Promise<string> {
  const reply = decodeJson(
    OfferReply,
    (await h.nc.request(offerSubject(h.tx.id), encodeJson(req), { timeout: 5_000 })).data,
  );
  if (!reply.ok) throw new Error(reply.message);
  return reply.answer;
}

export async function openCall(
  h: Harness,
  opts: { agent?: string; dataChannel?: boolean } = {},
): Promise<TestCall> {
  const client = new RTCPeerConnection({ codecs: CODECS, iceServers: [] });
  const out = new MediaStreamTrack({ kind: 'audio' });
  const t = client.addTransceiver(out, { direction: 'sendrecv' });
  const events: Record<string, unknown>[] = [];
  let dc: RTCDataChannel | undefined;
  if (opts.dataChannel) {
    dc = client.createDataChannel('events');
    dc.onMessage.subscribe((m) => events.push(JSON.parse(m.toString())));
  }
  await client.setLocalDescription(await client.createOffer());
  const sessionId = `${h.tx.routeId}-${Math.random().toString(36).slice(2, 12).padEnd(22, 'x')}`;
  const answer = await placeSession(h, {
    sessionId,
    offer: client.localDescription?.sdp,
    relay: { ip: '198.51.100.7', port: 3478 },
    agent: opts.agent,
  });
  const info = decodeJson(
    SessionInfoReply,
    (await h.nc.request(sessionStateSubject(h.tx.id), encodeJson({ sessionId }), { timeout: 2_000 })).data,
  );
  if (!info.ok) throw new Error(info.message);
  const received: Received[] = [];
  t.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) =>
      received.push({
        seq: rtp.header.sequenceNumber,
        timestamp: rtp.header.timestamp,
        marker: rtp.header.marker,
        payload: rtp.payload,
        at: performance.now(),
      }),
    ),
  );
  const connected = new Promise<void>((r) =>
    client.connectionStateChange.subscribe((s) => s === 'connected' && r()),
  );
  await client.setRemoteDescription({
    type: 'answer',
    sdp: answer.replace('198.51.100.7 3478', `127.0.0.1 ${info.port}`),
  });
  // Bounded: a session that never connects fails the test with a reason instead of hanging it.
  await withTimeout(connected, 5_000, `session ${sessionId} did not connect within 5 s`);
  if (dc && dc.readyState !== 'open')
    await new Promise<void>((r) => dc?.stateChanged.subscribe((s) => s === 'open' && r()));

  const encoder = new OpusEncoder();
  let seq = 1000;
  let ts = 123_456;
  const sentAt: number[] = [];
  const writeRtp = (payload: Buffer) => {
    seq = (seq + 1) & 0xffff;
    ts = (ts + FRAME) >>> 0;
    out.writeRtp(
      new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: ts }), payload),
    );
  };
  return {
    sessionId,
    received,
    events,
    sentAt,
    async sendPcm(pcm) {
      const start = performance.now();
      const frames = Math.ceil(pcm.length / FRAME);
      for (let i = 0; i < frames; i++) {
        const wait = start + i * 20 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const frame = new Int16Array(FRAME);
        frame.set(pcm.subarray(i * FRAME, (i + 1) * FRAME));
        sentAt.push(performance.now());
        writeRtp(encoder.encode(frame));
      }
    },
    sendRaw: writeRtp,
    waitForEvent(this: TestCall, type: string, timeoutMs = 3_000) {
      return this.waitFor((e) => e.type === type, timeoutMs);
    },
    async waitFor(pred, timeoutMs = 3_000, skip = 0) {
      const until = performance.now() + timeoutMs;
      for (;;) {
        const e = events.slice(skip).find(pred);
        if (e) return e;
        if (performance.now() > until)
          throw new Error(
            `no matching event within ${timeoutMs} ms; got ${events.map((x) => x.type).join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      encoder.close();
      await client.close();
    },
  };
}

/** Decodes what came back into one 48 kHz timeline, placed by RTP timestamp. */
export function decodeReceived(received: Received[]): {
  pcm: Int16Array;
  arrivalOf: (sample: number) => number;
} {
  const sorted = [...received].sort((a, b) => a.at - b.at);
  const first = sorted[0];
  if (!first) return { pcm: new Int16Array(0), arrivalOf: () => Number.NaN };
  const offsetOf = (r: Received) => ((r.timestamp - first.timestamp) | 0) >>> 0;
  const end = Math.max(...sorted.map((r) => offsetOf(r))) + FRAME;
  const pcm = new Int16Array(end);
  const arrival = new Float64Array(Math.ceil(end / FRAME)).fill(Number.NaN);
  const dec = new OpusDecoder();
  for (const r of [...sorted].sort((a, b) => offsetOf(a) - offsetOf(b))) {
    const o = offsetOf(r);
    pcm.set(dec.decode(r.payload).subarray(0, end - o), o);
    arrival[Math.floor(o / FRAME)] = r.at;
  }
  dec.close();
  return { pcm, arrivalOf: (s) => arrival[Math.floor(s / FRAME)] as number };
}

export function chirp(ms: number, f0: number, f1: number, amp = 8_000): Int16Array {
  const n = (48_000 * ms) / 1000;
  const out = new Int16Array(n);
  const k = (f1 - f0) / (ms / 1000);
  for (let i = 0; i < n; i++) {
    const t = i / 48_000;
    const fade = Math.min(1, i / 480, (n - i) / 480);
    out[i] = Math.round(amp * fade * Math.sin(2 * Math.PI * (f0 * t + (k * t * t) / 2)));
  }
  return out;
}

/** Where `template` best matches inside `signal`, and how well (normalised correlation, 1 = identical). */
export function findByCorrelation(
  signal: Int16Array,
  template: Int16Array,
): { index: number; score: number } {
  // Coarse search at 8 kHz (the chirps stay below 4 kHz), then refine at 48 kHz.
  const dec = 6;
  const down = (x: Int16Array) => {
    const y = new Float32Array(Math.floor(x.length / dec));
    for (let i = 0; i < y.length; i++) {
      let s = 0;
      for (let j = 0; j < dec; j++) s += x[i * dec + j] as number;
      y[i] = s / dec;
    }
    return y;
  };
  const score = (sig: ArrayLike<number>, tpl: ArrayLike<number>, lag: number) => {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < tpl.length; i++) {
      const a = sig[lag + i] as number;
      const b = tpl[i] as number;
      xy += a * b;
      xx += a * a;
      yy += b * b;
    }
    return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
  };
  const s8 = down(signal);
  const t8 = down(template);
  let best = { index: 0, score: -1 };
  for (let lag = 0; lag + t8.length <= s8.length; lag++) {
    const c = score(s8, t8, lag);
    if (c > best.score) best = { index: lag * dec, score: c };
  }
  const coarse = best.index;
  let fine = { index: coarse, score: -1 };
  for (let lag = Math.max(0, coarse - 2 * dec); lag <= coarse + 2 * dec; lag++) {
    if (lag + template.length > signal.length) break;
    const c = score(signal, template, lag);
    if (c > fine.score) fine = { index: lag, score: c };
  }
  return fine;
}

/** Voiced, speech-like audio at 48 kHz: harmonics of a gliding pitch with a syllable-rate envelope. */
/**
 * `ms` of real speech at 48 kHz peaking near `amp`: a committed espeak-ng
 * recording (core/src/media/turn/fixtures), looped. Real speech, because the
 * default detector is Silero, which rightly does not take a harmonic tone
 * for a voice.
 */
export function speechLike(ms: number, amp = 6_000): Int16Array {
  const clip = speechClip();
  const n = (48_000 * ms) / 1000;
  const out = new Int16Array(n);
  const scale = amp / clipPeak;
  for (let i = 0; i < n; i++) out[i] = Math.round((clip[i % clip.length] as number) * scale);
  return out;
}

let clip48: Int16Array | undefined;
let clipPeak = 1;
function speechClip(): Int16Array {
  if (!clip48) {
    const b = readFileSync(new URL('../../src/media/turn/fixtures/speech-16k.raw', import.meta.url));
    const clip16 = new Int16Array(b.buffer, b.byteOffset, b.byteLength >> 1);
    clip48 = new Resampler(16_000, 48_000, { prime: true }).process(clip16).slice();
    clipPeak = clip48.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  }
  return clip48;
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Level of a frequency in a signal (single-bin DFT amplitude). */
export function toneLevel(x: Int16Array, freq: number, rate = 48_000): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    re += (x[i] as number) * Math.cos((2 * Math.PI * freq * i) / rate);
    im += (x[i] as number) * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / Math.max(1, x.length);
}

/**
 * How quickly agent audio stopped after the caller started talking over it,
 * from packet timestamps at the client: wall-clock time from the first
 * speech packet leaving to the last agent packet arriving, and how many agent
 * packets (20 ms each) arrived after it. The packet count is what the caller
 * hears; it stays meaningful when a loaded machine stalls the event loop,
 * which inflates the wall-clock figure.
 */
export function bargeInStop(
  call: TestCall,
  firstSpeechFrame: number,
): { stopMs: number; packetsAfter: number } {
  const speechSentAt = call.sentAt[firstSpeechFrame] as number;
  const lastAgentPacket = Math.max(...call.received.map((r) => r.at));
  return {
    stopMs: Math.round((lastAgentPacket - speechSentAt) * 10) / 10,
    packetsAfter: call.received.filter((r) => r.at > speechSentAt).length,
  };
}

/** The strongest level of `freq` over 200 ms windows (robust to where in the timeline it sits). */
export function peakToneLevel(x: Int16Array, freq: number): number {
  let best = 0;
  for (let at = 0; at + 9_600 <= x.length; at += 2_400)
    best = Math.max(best, toneLevel(x.subarray(at, at + 9_600), freq));
  return best;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
