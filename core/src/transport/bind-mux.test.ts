import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { bindMux, MuxBindError, type UdpIo } from './bind-mux.js';

// Issue 13: "when another process holds the UDP port a session would use, the
// offer fails with 502". Sessions no longer bind anything (every session shares
// the transceiver's one ICE port), so a held port can only fail the
// transceiver's start, and it must say which port and why, keeping the cause.
describe('bindMux when the ICE port is already held', () => {
  it.each(['node:dgram', 'auto'] as UdpIo[])(
    '%s: fails at bind with a MuxBindError naming the port',
    async (io) => {
      const holder = createSocket('udp4');
      await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
      const port = holder.address().port;
      try {
        const err = await bindMux('127.0.0.1', port, io).then(
          (mux) => {
            mux.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(MuxBindError);
        expect((err as Error).message).toContain(`127.0.0.1:${port}`);
        expect((err as Error).cause).toBeDefined();
      } finally {
        holder.close();
      }
    },
  );

  it('binds a free port, and frees it on close', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    probe.close();
    const mux = await bindMux('127.0.0.1', port, 'node:dgram');
    expect(mux.port).toBe(port);
    mux.close();
    const again = await bindMux('127.0.0.1', port, 'node:dgram');
    again.close();
  });
});
