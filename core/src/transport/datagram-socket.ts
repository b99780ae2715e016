import type { Socket } from 'node:dgram';
// Plain-JS helpers in the native package's loader: present whether or not the addon is built.
import { ipv4ToU32, u32ToIpv4 } from '@parley/native/udp';

export { ipv4ToU32 };

/**
 * One datagram for the mux. IPv4 senders come with `ip4` (a host-order u32)
 * and may come without the dotted string, which the native socket only
 * builds when asked (see `addressOf`); IPv6 senders have `ip4 = -1` and the
 * string. `data` may be a view into a buffer the socket reuses: valid only
 * during the call, copy what you keep.
 */
export type DatagramHandler = (data: Buffer, address: string | undefined, ip4: number, port: number) => void;

/** The transceiver's one UDP socket, whichever I/O implements it. */
export interface DatagramSocket {
  readonly kind: 'node:dgram' | 'recvmmsg';
  readonly port: number;
  readonly sendErrors: number;
  setHandler(fn: DatagramHandler): void;
  /** `address` is used when `ip4` is -1 (IPv6). */
  send(data: Uint8Array, port: number, address: string, ip4: number): void;
  close(): void;
}

export function addressOf(address: string | undefined, ip4: number): string {
  return address ?? u32ToIpv4(ip4);
}

/** node:dgram: one system call and one callback per datagram; portable, and what IPv6 uses. */
export class DgramDatagramSocket implements DatagramSocket {
  readonly kind = 'node:dgram';
  sendErrors = 0;
  private readonly onSent = (err: Error | null) => {
    if (err) this.sendErrors++;
  };

  constructor(private readonly socket: Socket) {}

  get port(): number {
    return this.socket.address().port;
  }

  setHandler(fn: DatagramHandler): void {
    // ipv4ToU32 gives -1 for an IPv6 sender, which the mux then keys by string.
    this.socket.on('message', (data, rinfo) => fn(data, rinfo.address, ipv4ToU32(rinfo.address), rinfo.port));
  }

  send(data: Uint8Array, port: number, address: string): void {
    this.socket.send(data, port, address, this.onSent);
  }

  close(): void {
    this.socket.close();
  }
}
