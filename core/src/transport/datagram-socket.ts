import type { Socket } from 'node:dgram';

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
  return address ?? `${ip4 >>> 24}.${(ip4 >>> 16) & 0xff}.${(ip4 >>> 8) & 0xff}.${ip4 & 0xff}`;
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

/** Dotted-quad IPv4 to a host-order u32; -1 for anything else. Allocation-free. */
export function ipv4ToU32(address: string): number {
  let ip = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      ip = ip * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return ip * 256 + octet;
}
