/**
 * Token ids (route id + nonce, see tokenId()) of sessions that ended, each
 * kept until its token would have expired anyway: after that the token is
 * refused as expired and the entry is useless. The relay refuses new flows
 * for a revoked token and closes the flows it has. Pure, bounded: when full
 * the oldest entry goes (entries arrive roughly in expiry order, since every
 * token lives the same maximum session length).
 */
export class RevocationSet {
  private readonly expiries = new Map<string, number>();

  constructor(readonly maxEntries = 1_000_000) {
    if (!(maxEntries >= 1)) throw new Error('maxEntries must be at least 1');
  }

  get size(): number {
    return this.expiries.size;
  }

  /** Returns false when the token has already expired (nothing to remember). */
  add(tokenId: string, expiresAtSeconds: number, nowSeconds: number): boolean {
    if (expiresAtSeconds <= nowSeconds) return false;
    if (!this.expiries.has(tokenId) && this.expiries.size >= this.maxEntries) {
      const oldest = this.expiries.keys().next();
      if (!oldest.done) this.expiries.delete(oldest.value);
    }
    this.expiries.set(tokenId, expiresAtSeconds);
    return true;
  }

  has(tokenId: string): boolean {
    return this.expiries.has(tokenId);
  }

  /** Forgets up to `max` entries whose token has expired; returns how many. */
  prune(nowSeconds: number, max = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (const [id, exp] of this.expiries) {
      if (n >= max) break;
      if (exp <= nowSeconds) {
        this.expiries.delete(id);
        n++;
      }
    }
    return n;
  }
}
