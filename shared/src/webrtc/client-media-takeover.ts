import { ipv4ToU32, loadNativeUdp, u32ToIpv4 } from '@parley/native/udp';
import type { RTCPeerConnection } from 'werift';
import { extractSrtpKeys, type SrtpKeyingMaterial, type WeriftDtlsSocket } from './dtls-srtp-keys.js';

/**
 * For load generators: a werift *client* does ICE and DTLS as usual, then
 * hands its media to Parley's SRTP path, as the transceiver does. One core
 * of werift's own per-packet path drives far fewer sessions than a
 * transceiver can now take, so without this the capacity bench would
 * measure its generator.
 */

/** The raw datagram path of the nominated candidate pair, under werift. */
export interface RawMediaPath {
  /** Sends one protected RTP/RTCP datagram to the peer (copied: the caller may reuse `data`). */
  send(data: Uint8Array): void;
  /** Receives every RTP/RTCP datagram (first byte 128–191) instead of werift; `data` is valid only during the call. */
  onMedia(fn: (data: Buffer) => void): void;
}

type Address = [string, number];

interface WeriftUdpTransport {
  socket: {
    send(data: Uint8Array, port: number, address: string, cb?: (err: Error | null) => void): void;
    address(): { address: string; port: number; family: string };
    close(cb?: () => void): void;
  };
  onData: (data: Buffer, addr: Address) => void;
  send: (data: Buffer, addr?: Address) => Promise<void>;
  close: () => Promise<void>;
}

interface DtlsInternals {
  srtpStarted: boolean;
  srtpProfiles: number[];
  startSrtp(): void;
  dtls?: WeriftDtlsSocket;
  iceTransport: {
    connection: { nominated?: { remoteAddr: Address; protocol: { transport: WeriftUdpTransport } } };
  };
}

/**
 * Call after setLocalDescription (the DTLS transports exist then) and before
 * the connection comes up. `onReady` runs once DTLS is up, with the keys and
 * the raw path; werift never sees media after that. Where Parley's native
 * UDP addon is built, the pair's socket is moved onto it (same port, so the
 * transceiver and relay see the same address): sends then leave in sendmmsg
 * batches and arrivals come in recvmmsg batches, and STUN and DTLS still
 * reach werift.
 */
export function takeOverClientMedia(
  pc: RTCPeerConnection,
  onReady: (keys: SrtpKeyingMaterial, path: RawMediaPath) => void,
  options: {
    /**
     * DTLS-SRTP profile ids to offer (RFC 5764 use_srtp), in order; werift's
     * default otherwise. Benches pin one to measure each profile's cost.
     */
    srtpProfiles?: readonly number[];
  } = {},
): void {
  for (const t of pc.dtlsTransports as unknown as DtlsInternals[]) {
    if (options.srtpProfiles) t.srtpProfiles = [...options.srtpProfiles];
    t.startSrtp = function startSrtpInParley(this: DtlsInternals) {
      if (this.srtpStarted) return;
      this.srtpStarted = true;
      const pair = this.iceTransport.connection.nominated;
      if (!pair) throw new Error('DTLS up without a nominated candidate pair');
      const keys = extractSrtpKeys(this.dtls);
      onReady(keys, rawPath(pair.protocol.transport, pair.remoteAddr));
    };
  }
}

function rawPath(transport: WeriftUdpTransport, [address, port]: Address): RawMediaPath {
  let media: (data: Buffer) => void = () => {};
  const toWerift = transport.onData;
  const native = loadNativeUdp();
  const local = transport.socket.address();
  if (!native || local.family !== 'IPv4') {
    transport.onData = (data, addr) => {
      const b = data[0] as number;
      if (b >= 128 && b < 192) media(data);
      else toWerift(data, addr);
    };
    return {
      // dgram may send after this returns: a copy, as the native path makes.
      send: (data) => transport.socket.send(Buffer.from(data), port, address),
      onMedia: (fn) => {
        media = fn;
      },
    };
  }
  // Move the port to the native socket. Until it is bound (the dgram close
  // completes on the next turn), sends queue rather than drop.
  let sock: InstanceType<typeof native.NativeUdpSocket> | undefined;
  let pending: { data: Buffer; port: number; to: number | string }[] | undefined = [];
  const send = (data: Uint8Array, toPort: number, to: number | string) => {
    if (sock) sock.send(data, toPort, to);
    else pending?.push({ data: Buffer.from(data), port: toPort, to });
  };
  // The peer as a host-order u32, parsed once: the addon would parse a string on every send.
  const peer = ipv4ToU32(address) >= 0 ? ipv4ToU32(address) : address;
  transport.send = async (data, addr) => {
    if (addr) send(data, addr[1], addr[0]);
  };
  transport.close = async () => {
    pending = undefined;
    sock?.close();
  };
  transport.socket.close(() => {
    if (!pending) return; // the call ended first
    sock = new native.NativeUdpSocket({ address: local.address, port: local.port });
    sock.onBatch = ({ data, count, meta }) => {
      for (let i = 0, m = 0; i < count; i++, m += 4) {
        const at = meta[m] as number;
        const view = data.subarray(at, at + (meta[m + 1] as number));
        const b = view[0] as number;
        if (b >= 128 && b < 192) media(view);
        // werift may keep what it is given: a copy, not a view into the reused slab.
        else toWerift(Buffer.from(view), [u32ToIpv4(meta[m + 2] as number), meta[m + 3] as number]);
      }
    };
    for (const d of pending) sock.send(d.data, d.port, d.to);
    pending = [];
  });
  return {
    send: (data) => send(data, port, peer),
    onMedia: (fn) => {
      media = fn;
    },
  };
}
