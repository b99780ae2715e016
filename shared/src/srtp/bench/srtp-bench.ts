// Microbenchmark: µs per RTP packet through SrtpSession, each way, both profiles.
//   npm run build -w @parley/shared && node shared/dist/srtp/bench/srtp-bench.js [packets] [payloadBytes]
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SRTP_PROFILES, type SrtpProfile } from '../profiles.js';
import { writeRtpHeader } from '../rtp-header.js';
import { SrtpSession } from '../srtp-context.js';

export interface SrtpBenchOptions {
  packets: number;
  payloadBytes: number;
}

export interface SrtpBenchRow {
  profile: string;
  protectUs: number;
  unprotectUs: number;
}

export const BENCH_PROFILES: SrtpProfile[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'];
const RUNS = 5;

/** Plain RTP packets with consecutive sequence numbers, like one audio stream. */
export function benchPackets(opts: SrtpBenchOptions): Buffer[] {
  const payload = randomBytes(opts.payloadBytes);
  return Array.from({ length: opts.packets }, (_, i) => {
    const buf = Buffer.alloc(12 + opts.payloadBytes);
    writeRtpHeader(buf, 0, { pt: 111, seq: i & 0xffff, ts: i * 960, ssrc: 0x5eed1234 });
    payload.copy(buf, 12);
    return buf;
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Median of five runs (after one warm-up) of protecting then unprotecting
 * opts.packets packets with fresh sessions; yields between runs so a
 * shared event loop is not starved.
 */
export async function benchSrtp(opts: SrtpBenchOptions): Promise<SrtpBenchRow[]> {
  const packets = benchPackets(opts);
  const rows: SrtpBenchRow[] = [];
  for (const profile of BENCH_PROFILES) {
    const { keyLength, saltLength } = SRTP_PROFILES[profile];
    const key = randomBytes(keyLength);
    const salt = randomBytes(saltLength);
    const protect: number[] = [];
    const unprotect: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const tx = new SrtpSession(profile, key, salt);
      const rx = new SrtpSession(profile, key, salt);
      const sent: Buffer[] = new Array(packets.length);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < packets.length; i++) sent[i] = tx.protectRtp(packets[i] as Buffer);
      const t1 = process.hrtime.bigint();
      let ok = 0;
      for (let i = 0; i < sent.length; i++) if (rx.unprotectRtp(sent[i] as Buffer) !== null) ok++;
      const t2 = process.hrtime.bigint();
      if (ok !== packets.length)
        throw new Error(`${profile}: only ${ok}/${packets.length} packets unprotected`);
      if (run > 0) {
        protect.push(Number(t1 - t0) / 1000 / packets.length);
        unprotect.push(Number(t2 - t1) / 1000 / packets.length);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    rows.push({ profile, protectUs: median(protect), unprotectUs: median(unprotect) });
  }
  return rows;
}

export function renderRows(rows: SrtpBenchRow[], opts: SrtpBenchOptions): string {
  const lines = [
    `SRTP µs/packet, ${opts.payloadBytes}-byte payload, median of ${RUNS} runs of ${opts.packets} packets (node ${process.version})`,
    `${'profile'.padEnd(32)}${'protect'.padStart(10)}${'unprotect'.padStart(12)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.profile.padEnd(32)}${r.protectUs.toFixed(2).padStart(10)}${r.unprotectUs.toFixed(2).padStart(12)}`,
    );
  }
  return lines.join('\n');
}

export function benchOptionsFromArgv(argv: string[]): SrtpBenchOptions {
  return { packets: Number(argv[0] ?? 20_000), payloadBytes: Number(argv[1] ?? 100) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const opts = benchOptionsFromArgv(process.argv.slice(2));
  process.stdout.write(`${renderRows(await benchSrtp(opts), opts)}\n`);
}
