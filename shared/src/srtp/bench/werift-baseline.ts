// werift's SrtpSession measured exactly like ours, for the baseline column.
// werift comes through the adapter (webrtc/werift-client), so srtp-bench.ts
// itself stays werift-free; this file could move into the adapter folder.
//   node shared/dist/srtp/bench/werift-baseline.js [packets] [payloadBytes]
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtpSession as WeriftSrtpSession,
} from '../../webrtc/werift-client.js';
import { SRTP_PROFILES, type SrtpProfile } from '../profiles.js';
import {
  BENCH_PROFILES,
  benchOptionsFromArgv,
  benchPackets,
  benchSrtp,
  median,
  renderRows,
  type SrtpBenchOptions,
  type SrtpBenchRow,
} from './srtp-bench.js';

const WERIFT_PROFILE: Record<SrtpProfile, number> = {
  AES_CM_128_HMAC_SHA1_80: ProtectionProfileAes128CmHmacSha1_80,
  AEAD_AES_128_GCM: ProtectionProfileAeadAes128Gcm,
};

/**
 * Same packets, runs and median as benchSrtp. werift's encrypt takes an
 * already-parsed header and payload, so parsing is done outside the timed
 * loop: if anything this flatters werift.
 */
export async function benchWeriftSrtp(opts: SrtpBenchOptions): Promise<SrtpBenchRow[]> {
  const parsed = benchPackets(opts).map((p) => RtpPacket.deSerialize(p));
  const rows: SrtpBenchRow[] = [];
  for (const profile of BENCH_PROFILES) {
    const { keyLength, saltLength } = SRTP_PROFILES[profile];
    const key = randomBytes(keyLength);
    const salt = randomBytes(saltLength);
    const keys = { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
    const protect: number[] = [];
    const unprotect: number[] = [];
    for (let run = 0; run <= 5; run++) {
      const tx = new WeriftSrtpSession({ keys, profile: WERIFT_PROFILE[profile] });
      const rx = new WeriftSrtpSession({ keys, profile: WERIFT_PROFILE[profile] });
      const sent: Buffer[] = new Array(parsed.length);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < parsed.length; i++) {
        const p = parsed[i] as RtpPacket;
        sent[i] = tx.encrypt(p.payload, p.header);
      }
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < sent.length; i++) rx.decrypt(sent[i] as Buffer);
      const t2 = process.hrtime.bigint();
      if (run > 0) {
        protect.push(Number(t1 - t0) / 1000 / parsed.length);
        unprotect.push(Number(t2 - t1) / 1000 / parsed.length);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    rows.push({ profile: `werift ${profile}`, protectUs: median(protect), unprotectUs: median(unprotect) });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const opts = benchOptionsFromArgv(process.argv.slice(2));
  const ours = await benchSrtp(opts);
  const werift = await benchWeriftSrtp(opts);
  process.stdout.write(`${renderRows([...ours, ...werift], opts)}\n`);
}
