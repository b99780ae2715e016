import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';

/** The kernel's ephemeral port range (where clients' sockets land), from /proc; Linux's default when unreadable. */
export function ephemeralRange(text?: string): { min: number; max: number } {
  try {
    const [min, max] = (text ?? readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'))
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(min) && Number.isInteger(max)) return { min: min as number, max: max as number };
  } catch {}
  return { min: 32_768, max: 60_999 };
}

/**
 * `count` consecutive free UDP ports below the ephemeral range. A burst of
 * load-generator clients binds hundreds of ephemeral sockets; a transceiver
 * range inside that range would lose ports to them.
 */
export async function freeUdpRangeBelowEphemeral(
  count: number,
  host = '127.0.0.1',
): Promise<{ min: number; max: number }> {
  const ceiling = ephemeralRange().min - 1;
  const floor = 10_000;
  if (ceiling - floor < count) throw new Error(`no room for ${count} ports below the ephemeral range`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = floor + Math.floor(Math.random() * (ceiling - floor - count));
    const sockets: Socket[] = [];
    let ok = true;
    for (let p = min; p < min + count && ok; p++) {
      const s = createSocket('udp4');
      sockets.push(s);
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(p, host, () => resolve(true));
      });
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return { min, max: min + count - 1 };
  }
  throw new Error(`no run of ${count} free UDP ports found below the ephemeral range`);
}
