import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, Rfc4571Deframer } from './rfc4571-framing.js';

/** Why the relay closed (or refused) an ICE-TCP connection: a fixed list, for counters. */
export const TCP_CLOSE_REASONS = [
  'ip_limit',
  'connection_limit',
  'handshake_timeout',
  'idle_timeout',
  'frame_too_large',
  'first_frame_rejected',
  'flow_closed',
  'peer_closed',
  'socket_error',
  'shutdown',
] as const;
export type TcpCloseReason = (typeof TCP_CLOSE_REASONS)[number];

export interface TcpCounters {
  accepted: number;
  /** Connections whose first frame opened a flow. */
  established: number;
  closed: Record<TcpCloseReason, number>;
  /** Datagrams toward the client dropped because its TCP send buffer was full. */
  writeDrops: number;
  emptyFrames: number;
}

export function newTcpCounters(): TcpCounters {
  return {
    accepted: 0,
    established: 0,
    closed: Object.fromEntries(TCP_CLOSE_REASONS.map((r) => [r, 0])) as Record<TcpCloseReason, number>,
    writeDrops: 0,
    emptyFrames: 0,
  };
}

/** One client connection as the relay sees it. */
export interface StreamConn {
  readonly address: string;
  readonly port: number;
  /** Set by the relay when the first frame opened a flow; opaque here. */
  flow: unknown;
  /** Frames one datagram toward the client; drops it (counted) when the client reads too slowly. */
  send(packet: Buffer): void;
  close(reason: TcpCloseReason): void;
  /** The first frame opened a flow: the handshake deadline no longer applies. */
  established(): void;
}

export interface TcpListenerOptions {
  host: string;
  /** The one TCP port (443 in production). */
  port: number;
  /** The first frame must open a flow within this long, whatever trickles in meanwhile (slowloris). */
  handshakeTimeoutMs?: number;
  /** Closed after this long without a byte either way. */
  idleTimeoutMs?: number;
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  /** Largest RFC 4571 frame accepted; the per-connection receive buffer is bounded by it. */
  maxFrameBytes?: number;
  /** Bytes queued toward one client before datagrams to it are dropped (UDP semantics). */
  maxWriteBufferBytes?: number;
}

/** The ICE-TCP port could not be listened on (EACCES below 1024 without the capability, EADDRINUSE). */
export class TcpListenError extends Error {
  constructor(
    readonly port: number,
    options: { cause: unknown },
  ) {
    super(
      `cannot listen for ICE-TCP on port ${port}: ${(options.cause as Error)?.message ?? options.cause}`,
      options,
    );
    this.name = 'TcpListenError';
  }
}

export interface TcpListener {
  address(): { address: string; port: number };
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * The relay's ICE-TCP passive side (RFC 6544) on one TCP port: accepts
 * connections, enforces connection limits and timeouts, splits RFC 4571
 * frames and hands each to `onFrame`; `onClose` runs once per connection.
 * What a frame means (token check, forwarding) is the relay's business.
 */
export async function startTcpListener(
  opts: TcpListenerOptions,
  counters: TcpCounters,
  onFrame: (conn: StreamConn, frame: Buffer) => void,
  onClose: (conn: StreamConn, reason: TcpCloseReason) => void,
): Promise<TcpListener> {
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 5_000;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const maxConnections = opts.maxConnections ?? 10_000;
  const maxPerIp = opts.maxConnectionsPerIp ?? 32;
  const maxFrameBytes = opts.maxFrameBytes ?? 4096;
  const maxWrite = opts.maxWriteBufferBytes ?? 256 * 1024;
  const perIp = new Map<string, number>();
  const live = new Set<Socket>();
  let shuttingDown = false;

  const refuse = (socket: Socket, reason: TcpCloseReason): void => {
    counters.closed[reason]++;
    socket.destroy();
  };

  const server: Server = createServer({ noDelay: true, allowHalfOpen: false }, (socket) => {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (address === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    if (live.size >= maxConnections) return refuse(socket, 'connection_limit');
    const n = perIp.get(address) ?? 0;
    if (n >= maxPerIp) return refuse(socket, 'ip_limit');
    perIp.set(address, n + 1);
    live.add(socket);
    counters.accepted++;

    const deframer = new Rfc4571Deframer(maxFrameBytes);
    let closedReason: TcpCloseReason | undefined;
    const handshake = setTimeout(() => conn.close('handshake_timeout'), handshakeTimeoutMs);
    handshake.unref();

    const conn: StreamConn = {
      address,
      port,
      flow: undefined,
      send: (packet) => {
        if (closedReason !== undefined) return;
        if (socket.writableLength > maxWrite) {
          counters.writeDrops++;
          return;
        }
        socket.write(encodeFrame(packet));
      },
      close: (reason) => {
        if (closedReason !== undefined) return;
        closedReason = reason;
        socket.destroy();
      },
      established: () => {
        if (handshake) clearTimeout(handshake);
        counters.established++;
      },
    };

    socket.setTimeout(idleTimeoutMs, () => conn.close('idle_timeout'));
    socket.on('data', (chunk: Buffer) => {
      const err = deframer.push(chunk, (frame) => {
        if (closedReason === undefined) onFrame(conn, frame);
      });
      if (err) conn.close(err);
    });
    socket.on('error', () => {
      if (closedReason === undefined) closedReason = 'socket_error';
    });
    socket.on('close', () => {
      clearTimeout(handshake);
      const reason = closedReason ?? (shuttingDown ? 'shutdown' : 'peer_closed');
      closedReason = reason;
      counters.closed[reason]++;
      counters.emptyFrames += deframer.emptyFrames;
      live.delete(socket);
      const left = (perIp.get(address) ?? 1) - 1;
      if (left > 0) perIp.set(address, left);
      else perIp.delete(address);
      onClose(conn, reason);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new TcpListenError(opts.port, { cause: err })));
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    address: () => {
      const a = server.address();
      if (a === null || typeof a === 'string') throw new Error('tcp listener is not listening');
      return { address: a.address, port: a.port };
    },
    get connections() {
      return live.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        shuttingDown = true;
        server.close(() => resolve());
        for (const s of live) s.destroy();
      }),
  };
}
