/**
 * Hands out the transceiver's ICE ports, one per session. The port is chosen
 * before werift binds it because it is signed into the routing token, which
 * must be in the ufrag before the answer exists.
 *
 * Released ports go to the back of the queue so a late packet for a closed
 * session does not land on the next session that reuses the port at once.
 */
export class PortAllocator {
  private readonly free: number[] = [];
  private readonly used = new Set<number>();

  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new Error(`invalid ICE port range ${min}-${max}`);
    }
    for (let p = min; p <= max; p++) this.free.push(p);
  }

  /** A port, or undefined when every port is in use. */
  allocate(): number | undefined {
    const port = this.free.shift();
    if (port !== undefined) this.used.add(port);
    return port;
  }

  release(port: number): void {
    if (!this.used.delete(port)) return;
    this.free.push(port);
  }

  get inUse(): number {
    return this.used.size;
  }

  get capacity(): number {
    return this.max - this.min + 1;
  }
}
