import type { NativeUdpSocket } from '@parley/native/udp';
import type { DatagramHandler, DatagramSocket } from './datagram-socket.js';

/**
 * The transceiver's socket on Parley's native addon: datagrams arrive in
 * recvmmsg batches (one JS call per batch, not per packet) and sends queued
 * during a turn of the event loop leave together in one sendmmsg. IPv4 only.
 */
export class NativeDatagramSocket implements DatagramSocket {
  readonly kind = 'recvmmsg';

  constructor(private readonly socket: NativeUdpSocket) {}

  get port(): number {
    return this.socket.port;
  }

  get sendErrors(): number {
    return this.socket.stats.sendErrors;
  }

  setHandler(fn: DatagramHandler): void {
    this.socket.onBatch = ({ data, count, meta }) => {
      for (let i = 0, m = 0; i < count; i++, m += 4) {
        const offset = meta[m] as number;
        // A view into the addon's slab: consumers copy what they keep (see DatagramHandler).
        fn(
          data.subarray(offset, offset + (meta[m + 1] as number)),
          undefined,
          meta[m + 2] as number,
          meta[m + 3] as number,
        );
      }
    };
  }

  send(data: Uint8Array, port: number, address: string, ip4: number): void {
    this.socket.send(data, port, ip4 >= 0 ? ip4 : address);
  }

  close(): void {
    this.socket.close();
  }
}
