/**
 * A number for an IPv4 ip:port, so the per-packet lookup on the
 * transceiver's one socket is a Map<number> probe instead of building and
 * hashing a string. ip * 65536 + port stays below 2^48, inside a double's
 * exact integers. Returns -1 for anything that is not dotted-quad IPv4
 * (IPv6 peers use a string key instead).
 */
export function ipv4PortKey(address: string, port: number): number {
  let ip = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      ip = ip * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return (ip * 256 + octet) * 65536 + port;
}
