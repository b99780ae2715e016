/**
 * Per-packet cost of the transceiver's media work, native addons against JavaScript,
 * in one process and one run (cases interleaved round by round, median of RUNS rounds
 * after one warm-up round):
 *
 *   SRTP/SRTCP, both DTLS-SRTP profiles: libsrtp2 addon vs werift's node:crypto
 *   SrtpSession vs shared/src/srtp's SrtpSession on node:crypto and on OpenSSL EVP (the
 *   native/evp addon), 100-byte payloads; and protect RTP round-robin over 1, 100 and 600
 *   live sessions per engine, because libsrtp2 on NSS slows down as live keys grow.
 *   Opus 20 ms mono frames at 16 and 48 kHz, complexity 5, in-band FEC on: libopus addon vs
 *   @evan/opus WebAssembly as driven by core/src/media/opus-codec.ts.
 *
 * Run (pinned to one core), from the repo root after `npm run build:native -w @parley/native`:
 *   taskset -c 1 node --import ./native/bench/register.mjs native/bench/native-bench.ts
 * Prints a table; writes results/native-bench.json.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RtpHeader } from '@parley/shared/webrtc/werift-client.js';
import { OpusDecoder, OpusEncoder } from '../../core/src/media/opus-codec.js';
import { evpLoadError, loadEvp } from '../evp/index.cjs';
import { loadNativeOpus, nativeOpusLoadError } from '../opus/index.cjs';
import { loadNativeSrtp, nativeSrtpLoadError } from '../srtp/index.cjs';
import {
  loadSharedSrtp,
  PROFILES,
  type ProfileId,
  rtcpReceiverReport,
  rtpPacket,
  type SharedEngine,
  type SrtpLike,
  WeriftSrtp,
} from './js-srtp.js';

const RUNS = Number(process.env.RUNS ?? 5);
const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
const SRTP_PACKETS = Number(process.env.SRTP_PACKETS ?? 20_000);
const OPUS_FRAMES = Number(process.env.OPUS_FRAMES ?? 500);
const PAYLOAD_BYTES = 100;

interface Case {
  group: string;
  op: string;
  impl: string;
  native: boolean;
  n: number;
  /** Fresh state for one timed run; returns the per-item operation (and what frees the state after it). */
  setup(): ((i: number) => void) & { close?: () => void };
}

const cases: Case[] = [];
const srtp = loadNativeSrtp();
const opus = loadNativeOpus();
const shared = await loadSharedSrtp();
const evp = loadEvp();
if (!evp) console.warn(`OpenSSL EVP addon not loaded: ${evpLoadError()?.message}`);
const SHARED_ENGINES: SharedEngine[] = evp ? ['node:crypto', 'openssl'] : ['node:crypto'];
/** Live sessions the scaling rows protect round-robin (a transceiver holds two per call). */
const LIVE_COUNTS = (process.env.SRTP_LIVE ?? '1,100,600').split(',').map(Number);
if (!srtp) console.warn(`libsrtp2 addon not loaded: ${nativeSrtpLoadError()?.message}`);
if (!opus) console.warn(`libopus addon not loaded: ${nativeOpusLoadError()?.message}`);

function fail(what: string): never {
  throw new Error(`bench sanity check failed: ${what}`);
}

// ---- SRTP ---------------------------------------------------------------------------
const payload = randomBytes(PAYLOAD_BYTES);
const SSRC = 0x5eed1234;
for (const profile of PROFILES) {
  const id = profile.id as ProfileId;
  const key = randomBytes(profile.keyBytes);
  const salt = randomBytes(profile.saltBytes);
  const group = `SRTP ${profile.name}`;
  const n = SRTP_PACKETS;
  const plain = Array.from({ length: n }, (_, i) => rtpPacket(i + 1, (i + 1) * 960, SSRC, payload));
  const rr = rtcpReceiverReport(SSRC + 1, SSRC);
  // The same protected stream feeds every unprotect case (implementations interoperate; see native/test).
  const source = srtp ? new srtp.NativeSrtpSession(id, key, salt) : new WeriftSrtp(id, key, salt);
  const protectedRtp = plain.map((p) => source.protectRtp(p));
  const protectedRtcp = Array.from({ length: n }, () => source.protectRtcp(rr));
  const scratch = Buffer.allocUnsafe(2048);

  // protect: one reusable packet buffer, sequence number and timestamp rewritten per packet.
  const sendBuf = rtpPacket(1, 960, SSRC, payload);
  const stamp = (i: number) => {
    sendBuf.writeUInt16BE((i + 1) & 0xffff, 2);
    sendBuf.writeUInt32BE(((i + 1) * 960) >>> 0, 4);
  };
  if (srtp) {
    const S = srtp.NativeSrtpSession;
    cases.push(
      {
        group,
        op: 'protect RTP',
        impl: 'libsrtp2 addon protectRtp (new Buffer)',
        native: true,
        n,
        setup() {
          const s = new S(id, key, salt);
          return (i) => {
            stamp(i);
            s.protectRtp(sendBuf);
          };
        },
      },
      {
        group,
        op: 'protect RTP',
        impl: 'libsrtp2 addon protectRtpInto (prealloc)',
        native: true,
        n,
        setup() {
          const s = new S(id, key, salt);
          return (i) => {
            stamp(i);
            s.protectRtpInto(sendBuf, scratch);
          };
        },
      },
      {
        group,
        op: 'unprotect RTP',
        impl: 'libsrtp2 addon unprotectRtp (new Buffer)',
        native: true,
        n,
        setup() {
          const s = new S(id, key, salt);
          return (i) => {
            if (!s.unprotectRtp(protectedRtp[i] as Buffer)) fail('native unprotect');
          };
        },
      },
      {
        group,
        op: 'unprotect RTP',
        impl: 'libsrtp2 addon unprotectRtpInto (prealloc)',
        native: true,
        n,
        setup() {
          const s = new S(id, key, salt);
          return (i) => {
            if (s.unprotectRtpInto(protectedRtp[i] as Buffer, scratch) < 0) fail('native unprotectInto');
          };
        },
      },
      {
        group,
        op: 'protect RTCP RR',
        impl: 'libsrtp2 addon protectRtcp',
        native: true,
        n,
        setup() {
          const s = new S(id, key, salt);
          return () => {
            s.protectRtcp(rr);
          };
        },
      },
      {
        group,
        op: 'unprotect RTCP RR',
        impl: 'libsrtp2 addon unprotectRtcp',
        native: true,
        n,
        setup() {
          const s = new S(id, key, salt);
          return (i) => {
            if (!s.unprotectRtcp(protectedRtcp[i] as Buffer)) fail('native unprotectRtcp');
          };
        },
      },
    );
  }
  cases.push(
    {
      group,
      op: 'protect RTP',
      impl: 'werift encrypt(payload, header obj)',
      native: false,
      n,
      setup() {
        const w = new WeriftSrtp(id, key, salt);
        const header = RtpHeader.deSerialize(sendBuf);
        return (i) => {
          header.sequenceNumber = (i + 1) & 0xffff;
          header.timestamp = ((i + 1) * 960) >>> 0;
          w.encrypt(payload, header);
        };
      },
    },
    {
      group,
      op: 'protect RTP',
      impl: 'werift parse + encrypt (Buffer in/out)',
      native: false,
      n,
      setup() {
        const w = new WeriftSrtp(id, key, salt);
        return (i) => {
          stamp(i);
          w.protectRtp(sendBuf);
        };
      },
    },
    {
      group,
      op: 'unprotect RTP',
      impl: 'werift decrypt',
      native: false,
      n,
      setup() {
        const w = new WeriftSrtp(id, key, salt);
        return (i) => {
          if (!w.unprotectRtp(protectedRtp[i] as Buffer)) fail('werift decrypt');
        };
      },
    },
    {
      group,
      op: 'protect RTCP RR',
      impl: 'werift SrtcpSession.encrypt',
      native: false,
      n,
      setup() {
        const w = new WeriftSrtp(id, key, salt);
        return () => {
          w.protectRtcp(rr);
        };
      },
    },
    {
      group,
      op: 'unprotect RTCP RR',
      impl: 'werift SrtcpSession.decrypt',
      native: false,
      n,
      setup() {
        const w = new WeriftSrtp(id, key, salt);
        return (i) => {
          if (!w.unprotectRtcp(protectedRtcp[i] as Buffer)) fail('werift decrypt RTCP');
        };
      },
    },
  );
  for (const engine of SHARED_ENGINES) {
    let ok = true;
    try {
      shared.create(id, key, salt, engine);
    } catch {
      ok = false;
    }
    const impl = `shared SrtpSession on ${engine}`;
    const isNative = engine === 'openssl';
    if (ok)
      cases.push(
        {
          group,
          op: 'protect RTP',
          impl,
          native: isNative,
          n,
          setup() {
            const s = shared.create(id, key, salt, engine);
            return (i) => {
              stamp(i);
              s.protectRtp(sendBuf);
            };
          },
        },
        {
          group,
          op: 'unprotect RTP',
          impl,
          native: isNative,
          n,
          setup() {
            const s = shared.create(id, key, salt, engine);
            return (i) => {
              if (!s.unprotectRtp(protectedRtp[i] as Buffer)) fail('shared unprotect');
            };
          },
        },
        {
          group,
          op: 'protect RTCP RR',
          impl,
          native: isNative,
          n,
          setup() {
            const s = shared.create(id, key, salt, engine);
            return () => {
              s.protectRtcp(rr);
            };
          },
        },
        {
          group,
          op: 'unprotect RTCP RR',
          impl,
          native: isNative,
          n,
          setup() {
            const s = shared.create(id, key, salt, engine);
            return (i) => {
              if (!s.unprotectRtcp(protectedRtcp[i] as Buffer)) fail('shared unprotectRtcp');
            };
          },
        },
      );
  }

  // Scaling: protect RTP round-robin over `live` sessions, each with its own key (a
  // transceiver at 600 calls holds 1200 keys). libsrtp2 on NSS pays for every live key in
  // each packet's context setup; the engines that keep one context per key should stay flat.
  const engines: { impl: string; native: boolean; make(): SrtpLike & { close?(): void } }[] = [];
  if (srtp) {
    const S = srtp.NativeSrtpSession;
    engines.push({
      impl: 'libsrtp2 addon protectRtpInto',
      native: true,
      make() {
        const s = new S(id, randomBytes(profile.keyBytes), randomBytes(profile.saltBytes));
        return {
          protectRtp: (p) => {
            s.protectRtpInto(p, scratch);
            return scratch;
          },
          unprotectRtp: () => null,
          protectRtcp: () => scratch,
          unprotectRtcp: () => null,
          close: () => s.close(),
        };
      },
    });
  }
  for (const engine of SHARED_ENGINES)
    engines.push({
      impl: `shared SrtpSession on ${engine}`,
      native: engine === 'openssl',
      make: () => shared.create(id, randomBytes(profile.keyBytes), randomBytes(profile.saltBytes), engine),
    });
  for (const live of LIVE_COUNTS)
    for (const e of engines)
      cases.push({
        group: `SRTP ${profile.name}, protect RTP round-robin over N live sessions`,
        op: `N = ${live}`,
        impl: e.impl,
        native: e.native,
        n,
        setup() {
          const sessions = Array.from({ length: live }, () => e.make());
          const op = (i: number) => {
            stamp(i);
            (sessions[i % live] as SrtpLike).protectRtp(sendBuf);
          };
          return Object.assign(op, {
            close: () => {
              for (const s of sessions) s.close?.();
            },
          });
        },
      });
}

// ---- Opus ---------------------------------------------------------------------------
/** Voiced-speech-like test signal: 140 Hz glottal harmonics, two formants, syllable envelope, noise. */
function speechLike(rate: number, frames: number): Int16Array[] {
  const spf = rate / 50;
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const out: Int16Array[] = [];
  for (let f = 0; f < frames; f++) {
    const frame = new Int16Array(spf);
    for (let k = 0; k < spf; k++) {
      const t = (f * spf + k) / rate;
      const f0 = 140 + 20 * Math.sin(2 * Math.PI * 0.7 * t);
      let v = 0;
      for (let h = 1; h <= 20 && h * f0 < rate / 2; h++) {
        const fh = h * f0;
        const formant = Math.exp(-(((fh - 700) / 250) ** 2)) + 0.6 * Math.exp(-(((fh - 1800) / 300) ** 2));
        v += ((0.3 + formant) / h) * Math.sin(2 * Math.PI * fh * t);
      }
      const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
      frame[k] = Math.max(-32768, Math.min(32767, Math.round(9000 * env * v + 300 * rnd())));
    }
    out.push(frame);
  }
  return out;
}

const opusStats: Record<string, { wasmBytes: number; nativeBytes: number }> = {};
for (const rate of [16_000, 48_000] as const) {
  const group = `Opus ${rate / 1000} kHz mono 20 ms, complexity 5, FEC on`;
  const n = OPUS_FRAMES;
  const frames = speechLike(rate, n);
  const opts = {
    sampleRate: rate,
    channels: 1 as const,
    complexity: 5,
    inbandFec: true,
    packetLossPercent: 5,
    bitrate: 32_000,
  };
  // Every decode case decodes the same packets: the WebAssembly encoder's (today's production path).
  const enc = new OpusEncoder({ ...opts, backend: 'wasm' });
  const packets = frames.map((f) => enc.encode(f));
  enc.close();
  let nativeBytes = 0;
  if (opus) {
    const ne = new opus.NativeOpusEncoder(opts);
    for (const f of frames) nativeBytes += ne.encode(f).length;
    ne.close();
  }
  opusStats[rate] = {
    wasmBytes: packets.reduce((a, p) => a + p.length, 0) / n,
    nativeBytes: nativeBytes / n,
  };
  const pcmOut = new Int16Array((rate / 1000) * 120);
  const pktOut = new Uint8Array(4000);
  const spf = rate / 50;
  cases.push(
    {
      group,
      op: 'encode 20 ms',
      impl: 'WASM @evan/opus (core opus-codec.ts)',
      native: false,
      n,
      setup() {
        const e = new OpusEncoder({ ...opts, backend: 'wasm' });
        return (i) => {
          e.encode(frames[i] as Int16Array);
        };
      },
    },
    {
      group,
      op: 'decode 20 ms',
      impl: 'WASM @evan/opus (core opus-codec.ts)',
      native: false,
      n,
      setup() {
        const d = new OpusDecoder(rate, 1, 'wasm');
        return (i) => {
          if (d.decode(packets[i] as Buffer).length !== spf) fail('wasm decode');
        };
      },
    },
  );
  if (opus) {
    const { NativeOpusEncoder, NativeOpusDecoder } = opus;
    cases.push(
      {
        group,
        op: 'encode 20 ms',
        impl: 'libopus addon encode (new Buffer)',
        native: true,
        n,
        setup() {
          const e = new NativeOpusEncoder(opts);
          return (i) => {
            e.encode(frames[i] as Int16Array);
          };
        },
      },
      {
        group,
        op: 'encode 20 ms',
        impl: 'libopus addon encodeInto (prealloc)',
        native: true,
        n,
        setup() {
          const e = new NativeOpusEncoder(opts);
          return (i) => {
            e.encodeInto(frames[i] as Int16Array, pktOut);
          };
        },
      },
      {
        group,
        op: 'decode 20 ms',
        impl: 'libopus addon decode (new Int16Array)',
        native: true,
        n,
        setup() {
          const d = new NativeOpusDecoder(rate, 1);
          return (i) => {
            if (d.decode(packets[i] as Buffer).length !== spf) fail('native decode');
          };
        },
      },
      {
        group,
        op: 'decode 20 ms',
        impl: 'libopus addon decodeInto (prealloc)',
        native: true,
        n,
        setup() {
          const d = new NativeOpusDecoder(rate, 1);
          return (i) => {
            if (d.decodeInto(packets[i] as Buffer, pcmOut) !== spf) fail('native decodeInto');
          };
        },
      },
    );
  }
}

// ---- run ----------------------------------------------------------------------------
function timeOnce(c: Case): number {
  const op = c.setup();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < c.n; i++) op(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / c.n;
  op.close?.();
  return us;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const samples = cases.map(() => [] as number[]);
for (let round = 0; round <= RUNS; round++) {
  cases.forEach((c, k) => {
    const us = timeOnce(c);
    if (round > 0) samples[k]?.push(us); // round 0 warms up the JIT and the libraries
  });
}

const results = cases.map((c, k) => ({
  group: c.group,
  op: c.op,
  impl: c.impl,
  native: c.native,
  itemsPerRun: c.n,
  runsUs: (samples[k] as number[]).map((x) => Number(x.toFixed(3))),
  medianUs: Number(median(samples[k] as number[]).toFixed(3)),
}));

// Ratio of each row to the best native row for the same group+op (>1 = slower than native).
const bestNative = new Map<string, number>();
for (const r of results)
  if (r.native) {
    const key = `${r.group}|${r.op}`;
    bestNative.set(key, Math.min(bestNative.get(key) ?? Number.POSITIVE_INFINITY, r.medianUs));
  }

let lastGroup = '';
const lines: string[] = [];
const pad = (s: string, w: number) => s.padEnd(w);
lines.push(
  `${pad('operation', 20)}${pad('implementation', 52)}${'µs/item'.padStart(9)}${'min'.padStart(9)}${'max'.padStart(9)}${'x native'.padStart(10)}`,
);
for (const r of results) {
  if (r.group !== lastGroup) {
    lines.push(`-- ${r.group}`);
    lastGroup = r.group;
  }
  const best = bestNative.get(`${r.group}|${r.op}`);
  lines.push(
    `${pad(r.op, 20)}${pad(r.impl, 52)}${r.medianUs.toFixed(2).padStart(9)}${Math.min(...r.runsUs)
      .toFixed(2)
      .padStart(9)}${Math.max(...r.runsUs)
      .toFixed(2)
      .padStart(9)}${(best ? (r.medianUs / best).toFixed(2) : '-').padStart(10)}`,
  );
}

/** Which shared/src/srtp was measured: its last commit (if any), whether the tree is dirty, a content hash. */
function sharedSrtpVersion() {
  if (!shared) return null;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const dir = `${root}shared/src/srtp/`;
  const hash = createHash('sha256');
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.ts'))
    .sort())
    hash.update(f).update(readFileSync(dir + f));
  return {
    file: shared.file,
    lastCommit: git('log', '-1', '--format=%h %s', '--', 'shared/src/srtp') || null,
    uncommittedChanges: git('status', '--porcelain', '--', 'shared/src/srtp') !== '',
    sha256OfTsFiles: hash.digest('hex').slice(0, 16),
  };
}

const affinity = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
const meta = {
  date: new Date().toISOString(),
  command: 'taskset -c 1 node --import ./native/bench/register.mjs native/bench/native-bench.ts',
  node: process.version,
  cpu: cpus()[0]?.model,
  cpusAllowed: affinity,
  /** 1/5/15-minute load averages before and after: other work on the machine shows up as run-to-run spread. */
  loadavg: { before: loadBefore, after: loadavg().map((x) => Number(x.toFixed(2))) },
  runs: RUNS,
  statistic:
    'median of runs, each run = itemsPerRun items after one warm-up round; cases interleaved per round',
  srtpPayloadBytes: PAYLOAD_BYTES,
  libsrtp2: srtp?.version ?? null,
  openssl: evp?.version() ?? null,
  srtpLiveCounts: LIVE_COUNTS,
  libopus: opus?.version ?? null,
  werift: JSON.parse(readFileSync(new URL('../../node_modules/werift/package.json', import.meta.url), 'utf8'))
    .version,
  evanOpus: JSON.parse(
    readFileSync(new URL('../../node_modules/@evan/opus/package.json', import.meta.url), 'utf8'),
  ).version,
  sharedSrtp: sharedSrtpVersion(),
  opusMeanPacketBytes: opusStats,
};
console.log(
  `node ${meta.node}, ${meta.cpu}, cpus allowed: ${affinity}, loadavg ${meta.loadavg.before[0]} -> ${meta.loadavg.after[0]}, ${meta.libsrtp2}, ${meta.libopus}, werift ${meta.werift}, @evan/opus ${meta.evanOpus}`,
);
console.log(
  `median of ${RUNS} runs (${SRTP_PACKETS} packets / ${OPUS_FRAMES} frames each); JS SRTP in shared/src/srtp: ${meta.sharedSrtp ? JSON.stringify(meta.sharedSrtp) : 'not present'}`,
);
console.log(lines.join('\n'));
const outDir = fileURLToPath(new URL('../../results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}native-bench.json`, `${JSON.stringify({ meta, results }, null, 2)}\n`);
console.log(`wrote ${outDir}native-bench.json`);
