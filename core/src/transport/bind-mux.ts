import { createSocket } from 'node:dgram';
import { DgramDatagramSocket } from './datagram-socket.js';
import { UdpMux } from './udp-mux.js';

export class MuxBindError extends Error {
  override readonly name = 'MuxBindError';
}

/**
 * Binds the transceiver's one UDP socket. The kernel buffers are raised
 * because every session shares them: at 500 sessions a 10 ms stall of the
 * event loop is 250 datagrams waiting (the kernel caps the request at
 * net.core.rmem_max/wmem_max; a smaller grant only means less headroom).
 */
export async function bindMux(address: string, port: number, bufferBytes = 4 << 20): Promise<UdpMux> {
  const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
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
  return new UdpMux(new DgramDatagramSocket(socket));
}
