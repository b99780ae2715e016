import { createSocket } from 'node:dgram';
import { loadNativeUdp } from '@parley/native/udp';
import { type DatagramSocket, DgramDatagramSocket } from './datagram-socket.js';
import { NativeDatagramSocket } from './native-datagram-socket.js';
import { UdpMux } from './udp-mux.js';

export class MuxBindError extends Error {
  override readonly name = 'MuxBindError';
}

/** `auto`: the native batched socket when the addon is built and the address is IPv4, else node:dgram. */
export type UdpIo = 'auto' | 'recvmmsg' | 'node:dgram';

/**
 * Binds the transceiver's one UDP socket. The kernel buffers are raised
 * because every session shares them: at 500 sessions a 10 ms stall of the
 * event loop is 250 datagrams waiting (the kernel caps the request at
 * net.core.rmem_max/wmem_max; a smaller grant only means less headroom).
 */
export async function bindMux(
  address: string,
  port: number,
  io: UdpIo = 'auto',
  bufferBytes = 4 << 20,
): Promise<UdpMux> {
  return new UdpMux(await bindSocket(address, port, io, bufferBytes));
}

async function bindSocket(
  address: string,
  port: number,
  io: UdpIo,
  bufferBytes: number,
): Promise<DatagramSocket> {
  const v6 = address.includes(':');
  const native = io !== 'node:dgram' && !v6 ? loadNativeUdp() : undefined;
  if (io === 'recvmmsg' && !native)
    throw new MuxBindError(
      v6
        ? 'PARLEY_UDP_IO=recvmmsg needs an IPv4 bind address'
        : 'PARLEY_UDP_IO=recvmmsg, but the native UDP addon is not built (npm run build)',
    );
  if (native) {
    try {
      return new NativeDatagramSocket(
        new native.NativeUdpSocket({
          address,
          port,
          recvBufferBytes: bufferBytes,
          sendBufferBytes: bufferBytes,
        }),
      );
    } catch (err) {
      throw new MuxBindError(`cannot bind the ICE socket on ${address}:${port}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new MuxBindError(`cannot bind the ICE socket on ${address}:${port}: ${err.message}`, { cause: err }),
      );
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  try {
    socket.setRecvBufferSize(bufferBytes);
    socket.setSendBufferSize(bufferBytes);
  } catch {
    // Not fatal: the defaults work, with less headroom for bursts.
  }
  return new DgramDatagramSocket(socket);
}
