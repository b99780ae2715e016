import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { werift } from './werift-module.js';
import { disableNagleOnWeriftTcp } from './werift-tcp-nodelay.js';

// The werift this process runs (werift-module.ts), which the client adapter patches.
const { TcpActiveProtocol, TcpPassiveProtocol } = werift;

// The client adapter applies it on import.
import './werift-client.js';

describe("werift's ICE-TCP sockets", () => {
  it('get TCP_NODELAY when werift registers them (active and passive), on a real socket', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const socket: Socket = connect(port, '127.0.0.1');
    try {
      await new Promise((r) => socket.once('connect', r));
      const calls: boolean[] = [];
      const setNoDelay = socket.setNoDelay.bind(socket);
      socket.setNoDelay = (v?: boolean) => {
        calls.push(v ?? true);
        return setNoDelay(v);
      };
      for (const Protocol of [TcpActiveProtocol, TcpPassiveProtocol]) {
        const protocol = new Protocol() as unknown as {
          registerSocket(s: Socket, addr: [string, number]): unknown;
        };
        protocol.registerSocket(socket, ['127.0.0.1', port]);
      }
      expect(calls).toEqual([true, true]);
    } finally {
      socket.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('is applied once, and reports a werift without the hook', () => {
    expect(disableNagleOnWeriftTcp(TcpActiveProtocol)).toBe(true);
    expect(disableNagleOnWeriftTcp(class {})).toBe(false);
  });
});
