import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port the OS says is free on 127.0.0.1 right now. */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** A UDP port the OS says is free on 127.0.0.1 right now. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `count` consecutive free UDP ports (e.g. a TURN server's relay range). */
export async function freeUdpRange(count: number, host = '127.0.0.1'): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = 20_000 + Math.floor(Math.random() * 40_000);
    const sockets = [];
    let ok = true;
    for (let p = min; p < min + count; p++) {
      const s = createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(p, host, () => resolve(true));
      });
      sockets.push(s);
      if (!bound) {
        ok = false;
        break;
      }
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return { min, max: min + count - 1 };
  }
  throw new Error(`no run of ${count} free UDP ports found`);
}
