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
  flush(): void;
  readonly stats: NativeUdpStats;
  /** Idempotent; stops the poll handle, closes the fd, frees slabs. */
  close(): void;
  /** Like dgram: an unref'd socket does not keep the process alive. */
  ref(): void;
  unref(): void;
}

export interface NativeUdpModule {
  NativeUdpSocket: typeof NativeUdpSocket;
}

/** undefined when not Linux, the addon is not built, cannot be loaded, or PARLEY_NATIVE=0. */
export declare function loadNativeUdp(): NativeUdpModule | undefined;
export declare function nativeUdpLoadError(): Error | undefined;
/** Dotted-quad IPv4 → host-order u32; -1 for non-IPv4. */
export declare function ipv4ToU32(address: string): number;
export declare function u32ToIpv4(n: number): string;
