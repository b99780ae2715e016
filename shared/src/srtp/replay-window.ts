/**
 * Sliding replay window of RFC 3711 §3.3.2 over packet indices (48-bit
 * SRTP indices or 31-bit SRTCP indices, both exact in a double). The
 * bitmap is a ring indexed by index mod size, so sliding forward only
 * clears the bits it passes over instead of shifting the whole map.
 *
 * check() before authenticating, accept() only after: a forged packet
 * must never move the window.
 */
export class ReplayWindow {
  /** Highest accepted index; -1 before the first. */
  top = -1;
  private readonly bits: Uint32Array;

  constructor(readonly size: number) {
    this.bits = new Uint32Array(size >>> 5);
  }

  /** False for a duplicate or for an index at or beyond size behind the highest. */
  check(index: number): boolean {
    if (index > this.top) return true;
    if (this.top - index >= this.size) return false;
    const pos = index % this.size;
    return ((this.bits[pos >>> 5] as number) & (1 << (pos & 31))) === 0;
  }

  accept(index: number): void {
    const size = this.size;
    if (index > this.top) {
      if (this.top < 0 || index - this.top >= size) {
        this.bits.fill(0);
      } else {
        for (let i = this.top + 1; i < index; i++) {
          const pos = i % size;
          this.bits[pos >>> 5] = (this.bits[pos >>> 5] as number) & ~(1 << (pos & 31));
        }
      }
      this.top = index;
    }
    const pos = index % size;
    this.bits[pos >>> 5] = (this.bits[pos >>> 5] as number) | (1 << (pos & 31));
  }
}
