import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface Received {
  msg: Buffer;
  address: string;
  port: number;
}

/**
 * A loopback UDP endpoint for tests (a client or a stand-in transceiver):
 * records what arrives and lets a test wait for an exact count, bounded in
 * time, instead of sleeping and hoping.
 */
export class UdpPeer {
  readonly received: Received[] = [];
  /** Called for every datagram after it is recorded (e.g. to echo). */
  onMessage?: (msg: Buffer, rinfo: RemoteInfo, peer: UdpPeer) => void;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      this.received.push({ msg, address: rinfo.address, port: rinfo.port });
      this.onMessage?.(msg, rinfo, this);
      for (const w of this.waiters) w();
    });
  }

  static async bind(host = '127.0.0.1', port = 0, recvBufferSize?: number): Promise<UdpPeer> {
    const socket = createSocket({ type: 'udp4', recvBufferSize });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(msg: Buffer, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(msg, port, host, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Resolves once `count` datagrams in total have arrived; rejects after timeoutMs with how many did. */
  waitFor(count: number, timeoutMs = 2_000): Promise<Received[]> {
    if (this.received.length >= count) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.received.length < count) return;
        done();
        resolve(this.received);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`expected ${count} datagrams within ${timeoutMs} ms, got ${this.received.length}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
