import { type Cipheriv, createCipheriv } from 'node:crypto';

/** Counter blocks for packets up to this size reuse one scratch buffer; larger ones allocate. */
const SCRATCH_BLOCKS = 96;

/**
 * AES in counter mode as SRTP uses it (RFC 3711 §4.1.1): the IV is
 * salt*2^16 XOR SSRC*2^64 XOR index*2^16 and the low 16 bits count blocks.
 *
 * node:crypto's aes-128-ctr would need a new cipher (and key schedule) per
 * packet because its IV is fixed at creation. Instead one ECB cipher lives
 * as long as the session and encrypts the counter blocks we lay out in a
 * reused scratch buffer; ECB without padding keeps no state between
 * update() calls, so sharing it across packets is safe.
 */
export class AesCmKeystream {
  private readonly ecb: Cipheriv;
  private readonly salt: Uint8Array;
  private readonly scratch = Buffer.alloc(SCRATCH_BLOCKS * 16);
  /** views[b] is the first b blocks of scratch, made once: update() needs an exact-length input. */
  private readonly views: Buffer[] = [];

  constructor(key: Uint8Array, salt: Uint8Array) {
    this.ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.ecb.setAutoPadding(false);
    this.salt = Uint8Array.from(salt.subarray(0, 14));
    for (let b = 0; b <= SCRATCH_BLOCKS; b++) this.views.push(this.scratch.subarray(0, b * 16));
  }

  /**
   * dst[dstStart + i] = src[srcStart + i] XOR keystream[i] for the packet
   * identified by ssrc and its 48-bit index split as indexHigh (32 bits,
   * the ROC for SRTP) and indexLow (16 bits, the sequence number). src and
   * dst may be the same buffer.
   */
  xor(
    ssrc: number,
    indexHigh: number,
    indexLow: number,
    src: Uint8Array,
    srcStart: number,
    srcEnd: number,
    dst: Uint8Array,
    dstStart: number,
  ): void {
    const len = srcEnd - srcStart;
    if (len <= 0) return;
    const blocks = (len + 15) >>> 4;
    const ctr = blocks <= SCRATCH_BLOCKS ? (this.views[blocks] as Buffer) : Buffer.alloc(blocks * 16);
    const s = this.salt;
    ctr[0] = s[0] as number;
    ctr[1] = s[1] as number;
    ctr[2] = s[2] as number;
    ctr[3] = s[3] as number;
    ctr[4] = (s[4] as number) ^ (ssrc >>> 24);
    ctr[5] = (s[5] as number) ^ ((ssrc >>> 16) & 0xff);
    ctr[6] = (s[6] as number) ^ ((ssrc >>> 8) & 0xff);
    ctr[7] = (s[7] as number) ^ (ssrc & 0xff);
    ctr[8] = (s[8] as number) ^ (indexHigh >>> 24);
    ctr[9] = (s[9] as number) ^ ((indexHigh >>> 16) & 0xff);
    ctr[10] = (s[10] as number) ^ ((indexHigh >>> 8) & 0xff);
    ctr[11] = (s[11] as number) ^ (indexHigh & 0xff);
    ctr[12] = (s[12] as number) ^ ((indexLow >>> 8) & 0xff);
    ctr[13] = (s[13] as number) ^ (indexLow & 0xff);
    ctr[14] = 0;
    ctr[15] = 0;
    // Doubling copies: log2(blocks) native calls instead of one per block.
    for (let filled = 1; filled < blocks; filled *= 2) {
      ctr.copyWithin(filled * 16, 0, Math.min(filled, blocks - filled) * 16);
    }
    // A UDP datagram is far below 2^16 blocks, so the count never carries past 16 bits.
    for (let b = 1; b < blocks; b++) {
      ctr[b * 16 + 14] = (b >>> 8) & 0xff;
      ctr[b * 16 + 15] = b & 0xff;
    }
    const ks = this.ecb.update(ctr);
    for (let i = 0; i < len; i++) {
      dst[dstStart + i] = (src[srcStart + i] as number) ^ (ks[i] as number);
    }
  }
}
