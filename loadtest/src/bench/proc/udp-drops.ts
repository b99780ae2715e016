import { readFileSync } from 'node:fs';

/**
 * Datagrams the kernel dropped because a socket's receive buffer was full,
 * from /proc/net/udp. Tells where loss happened: at the process under test
 * (it could not keep up) or at the sink (the load harness could not).
 */
export function parseUdpDrops(table: string, port: number): number | undefined {
  const want = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let total: number | undefined;
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (cols.length < 13 || !cols[1]?.endsWith(want)) continue;
    total = (total ?? 0) + Number(cols[12]);
  }
  return total;
}

/** Drops so far on every IPv4 UDP socket bound to `port` (undefined when none is). */
export function udpDrops(port: number): number | undefined {
  try {
    return parseUdpDrops(readFileSync('/proc/net/udp', 'utf8'), port);
  } catch {
    return undefined;
  }
}
