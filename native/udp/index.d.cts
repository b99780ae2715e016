/** One received batch: everything in it is reused by the next batch. */
export interface UdpBatch {
  /** One slab the addon owns and reuses: valid ONLY during the callback; copy what you keep. */
  data: Buffer;
  count: number;
  /** 4 Uint32 per datagram: offset in data, length, IPv4 address as a host-order u32, port. Also reused. */
  meta: Uint32Array;
}

export interface NativeUdpSocketOptions {
  /** Dotted-quad IPv4 to bind ('0.0.0.0' for all); IPv6 callers keep node:dgram. */
  address: string;
  /** 0 = ephemeral (read `port` after construction). */
  port: number;
  /** Datagrams per recvmmsg / sendmmsg, and send-queue capacity (1..1024, default 64). */
  batch?: number;
  /** Largest datagram delivered or sent, in bytes (default 2048); larger arrivals count as truncated. */
  maxDatagram?: number;
  /** SO_RCVBUF (SO_RCVBUFFORCE when privileged, else capped by net.core.rmem_max). */
  recvBufferBytes?: number;
  /** SO_SNDBUF (SO_SNDBUFFORCE when privileged, else capped by net.core.wmem_max). */
  sendBufferBytes?: number;
  /** SO_REUSEPORT before bind: another socket (process) of the same user may bind the same port. */
  reusePort?: boolean;
}

export interface NativeUdpStats {
  /** Datagrams delivered to onBatch (truncated ones excluded). */
  received: number;
  /** Datagrams the kernel accepted (sendmmsg). */
  sent: number;
  /** Datagrams not sent: sendmmsg errors, queue full under EAGAIN, sends after close(), left queued at close(). */
  sendErrors: number;
  /** onBatch calls. */
  batches: number;
  /** Datagrams longer than maxDatagram, dropped. */
  truncated: number;
}

/** IPv4 UDP socket read with recvmmsg and written with sendmmsg (Linux). */
export declare class NativeUdpSocket {
  constructor(opts: NativeUdpSocketOptions);
  /** The bound port (port 0 → ephemeral). */
  readonly port: number;
  /** Called once per recvmmsg batch with `this` = the socket; a throw goes to process 'uncaughtException'. */
  onBatch: ((b: UdpBatch) => void) | undefined;
  /** Queues one datagram (copied), flushed with sendmmsg at the end of this event-loop turn (uv_check) or when `batch` are queued. Never throws for network errors: counts them. */
  send(data: Uint8Array, port: number, ipv4: number | string): void;
  /** send() of bytes [offset, offset + length) of data, e.g. a slice of another socket's slab. */
  sendRange(data: Uint8Array, offset: number, length: number, port: number, ipv4: number | string): void;
  /** Queues `count` datagrams in one call; rows: 4 Uint32 each (offset, length, port, IPv4 u32). Checked before any is queued. */
  sendMany(data: Uint8Array, rows: Uint32Array, count: number): void;
  /** SO_REUSEPORT only: the kernel gives every new datagram for the port to the group's socket at `index` (join order). */
  steer(index: number): void;
  flush(): void;
  readonly stats: NativeUdpStats;
  /** Idempotent; stops the poll handle, closes the fd, frees slabs. */
  close(): void;
  /** Like dgram: an unref'd socket does not keep the process alive. */
  ref(): void;
  unref(): void;
}

/** One received batch of a group: 5 Uint32 per datagram (offset, length, IPv4 u32, port, member id). */
export interface UdpGroupBatch {
  /** The shared slab: valid ONLY during the callback. */
  data: Buffer;
  count: number;
  /** Member id 0xffffffff: the member closed before delivery; skip the row. */
  meta: Uint32Array;
}

export interface NativeUdpGroupOptions {
  /** Slab slots (datagrams per delivery at most); default 64. */
  batch?: number;
  maxDatagram?: number;
  /** Members open at once at most (default 65536). */
  maxMembers?: number;
}

export interface NativeUdpGroupStats extends NativeUdpStats {
  /** Members open now. */
  open: number;
}

/**
 * Many IPv4 UDP sockets (a relay's per-flow upstream sockets) sharing one receive slab and one
 * callback: datagrams of every member are delivered together once per event-loop turn (or when
 * the slab fills). Sends go out at once with sendto; refused ones are counted, never thrown.
 * Members do not keep the process alive.
 */
export declare class NativeUdpGroup {
  constructor(opts?: NativeUdpGroupOptions);
  onBatch: ((b: UdpGroupBatch) => void) | undefined;
  /** Binds a member; throws an Error whose .code is the errno name (EMFILE, EADDRINUSE, ...). */
  open(
    address?: string,
    port?: number,
    opts?: { recvBufferBytes?: number; sendBufferBytes?: number },
  ): { id: number; port: number };
  send(id: number, data: Uint8Array, offset: number, length: number, port: number, ipv4: number): void;
  /** `count` sendto calls in one JS call; rows: 5 Uint32 each (member id, offset, length, port, IPv4 u32). */
  sendMany(data: Uint8Array, rows: Uint32Array, count: number): void;
  /** Idempotent. */
  closeMember(id: number): void;
  readonly stats: NativeUdpGroupStats;
  /** Closes every member; idempotent. */
  close(): void;
}

export interface NativeUdpModule {
  NativeUdpSocket: typeof NativeUdpSocket;
  NativeUdpGroup: typeof NativeUdpGroup;
}

/** undefined when not Linux, the addon is not built, cannot be loaded, or PARLEY_NATIVE=0. */
export declare function loadNativeUdp(): NativeUdpModule | undefined;
export declare function nativeUdpLoadError(): Error | undefined;
/** Dotted-quad IPv4 → host-order u32; -1 for non-IPv4. */
export declare function ipv4ToU32(address: string): number;
export declare function u32ToIpv4(n: number): string;
