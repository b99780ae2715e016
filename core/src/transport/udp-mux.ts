import { bindingRequestReceiverUfrag } from '../ice/stun-guard.js';
import { addressOf, type DatagramSocket } from './datagram-socket.js';

/**
 * One session as the transceiver's socket sees it. `onBindingRequest`
 * verifies a Binding Request naming this session (USERNAME +
 * MESSAGE-INTEGRITY), handles it, and says whether it verified; only then is
 * the sender's address bound to the session, and only bound addresses reach
 * `onDatagram` (DTLS, SRTP, SRTCP).
 */
export interface MuxEndpoint {
  onBindingRequest(data: Buffer, address: string, ip4: number, port: number): boolean;
  /** `address` may be undefined for IPv4 (see DatagramHandler); `data` is valid only during the call. */
  onDatagram(data: Buffer, address: string | undefined, ip4: number, port: number): void;
  /**
   * SRTP/SRTCP from an address not bound to any session, whose SSRC this
   * session registered (`UdpMux.registerSsrc`): the session tries its keys,
   * handles the packet if it authenticates, and says whether it did. Only
   * then does the mux move the address to it (relay restart: no STUN needed).
   */
  onUnboundMedia?(data: Buffer, address: string | undefined, ip4: number, port: number): boolean;
}

export interface UdpMuxCounters {
  datagramsIn: number;
  datagramsOut: number;
  /** From an unbound address and not a Binding Request naming a live session. */
  unknownSource: number;
  /** A Binding Request for a live session that failed its checks. */
  rejectedAdmission: number;
  admitted: number;
  /** Addresses bound because a packet from them authenticated with a session's SRTP keys. */
  movedBySrtp: number;
  /** SRTP/SRTCP from an unknown address naming a live session's SSRC that did not authenticate (dropped). */
  rejectedSrtp: number;
  sendErrors: number;
}

interface Registration {
  endpoint: MuxEndpoint;
  v4: number[];
  v6: string[];
  /** The client's SSRCs this session registered (bounded), so unregister forgets them. */
  ssrcs: number[];
}

/** A voice session sends one RTP stream (and maybe an RTCP-only SSRC); a few more are ignored. */
const MAX_SSRCS_PER_SESSION = 4;

/**
 * The transceiver's one UDP socket (as pion's UDPMux and mediasoup's
 * WebRtcServer): every session shares it, and datagrams are demultiplexed by
 * the sender's address (a relay flow). A new address joins a session only
 * through a verified Binding Request naming that session's ufrag (its
 * routing token); anything else from an unknown address is dropped and
 * counted. So one socket, one port in every firewall and Service, and no
 * packet reaches DTLS or SRTP from an address that has not proved it knows
 * the session's ICE password.
 */
export class UdpMux {
  readonly counters: UdpMuxCounters = {
    datagramsIn: 0,
    datagramsOut: 0,
    unknownSource: 0,
    rejectedAdmission: 0,
    admitted: 0,
    movedBySrtp: 0,
    rejectedSrtp: 0,
    sendErrors: 0,
  };
  private readonly byUfrag = new Map<string, Registration>();
  private readonly byV4 = new Map<number, Registration>();
  private readonly byV6 = new Map<string, Registration>();
  /** Client SSRC → session, for packets from a relay flow the transceiver has not seen yet. */
  private readonly bySsrc = new Map<number, Registration>();

  /**
   * @param maxAddressesPerSession how many relay flows one session may hold
   *   at once (a restarted relay or a sibling adds one; the oldest goes).
   */
  constructor(
    private readonly socket: DatagramSocket,
    private readonly maxAddressesPerSession = 4,
  ) {
    socket.setHandler((data, address, ip4, port) => this.receive(data, address, ip4, port));
  }

  get port(): number {
    return this.socket.port;
  }

  /** Which I/O the socket uses (recvmmsg batches, or node:dgram). */
  get io(): DatagramSocket['kind'] {
    return this.socket.kind;
  }

  get sessions(): number {
    return this.byUfrag.size;
  }

  /** Sessions are found by their full local ufrag: the routing token, unique per session. */
  register(ufrag: string, endpoint: MuxEndpoint): void {
    if (this.byUfrag.has(ufrag)) throw new Error('ufrag already registered on this transceiver');
    this.byUfrag.set(ufrag, { endpoint, v4: [], v6: [], ssrcs: [] });
  }

  /**
   * The session under `ufrag` received authenticated media from the client's
   * `ssrc`: a packet with that SSRC from a new address (a restarted or
   * sibling relay) may now be offered to it (`onUnboundMedia`). A later
   * session with a colliding SSRC takes the entry over; the earlier one then
   * falls back to STUN as before.
   */
  registerSsrc(ufrag: string, ssrc: number): void {
    const reg = this.byUfrag.get(ufrag);
    if (!reg || this.bySsrc.get(ssrc) === reg) return;
    this.bySsrc.set(ssrc, reg);
    if (!reg.ssrcs.includes(ssrc)) reg.ssrcs.push(ssrc);
    while (reg.ssrcs.length > MAX_SSRCS_PER_SESSION) {
      const old = reg.ssrcs.shift() as number;
      if (this.bySsrc.get(old) === reg) this.bySsrc.delete(old);
    }
  }

  /** Forgets the session and every address bound to it. */
  unregister(ufrag: string): void {
    const reg = this.byUfrag.get(ufrag);
    if (!reg) return;
    this.byUfrag.delete(ufrag);
    for (const k of reg.v4) if (this.byV4.get(k) === reg) this.byV4.delete(k);
    for (const k of reg.v6) if (this.byV6.get(k) === reg) this.byV6.delete(k);
    for (const s of reg.ssrcs) if (this.bySsrc.get(s) === reg) this.bySsrc.delete(s);
  }

  send(data: Uint8Array, port: number, address: string, ip4: number): void {
    this.counters.datagramsOut++;
    this.socket.send(data, port, address, ip4);
  }

  get sendErrors(): number {
    return this.socket.sendErrors;
  }

  /**
   * One datagram from the socket; public so tests can drive the mux without
   * one. IPv4 senders are keyed by a number (ip * 65536 + port, below 2^48),
   * so the per-packet lookup builds and hashes no string.
   */
  receive(data: Buffer, address: string | undefined, ip4: number, port: number): void {
    this.counters.datagramsIn++;
    const v4 = ip4 >= 0 ? ip4 * 65536 + port : -1;
    if ((data[0] as number) >= 2) {
      // DTLS, SRTP, SRTCP: only from an address a verified check bound.
      const known = v4 >= 0 ? this.byV4.get(v4) : this.byV6.get(`${address}|${port}`);
      if (known) known.endpoint.onDatagram(data, address, ip4, port);
      else this.fromUnknownAddress(data, address, ip4, port, v4);
      return;
    }
    // STUN goes by the ufrag it names, not by address: a relay flow that
    // carried an ended session may carry a new one (the client reused its port).
    const ufrag = bindingRequestReceiverUfrag(data);
    const reg = ufrag === undefined ? undefined : this.byUfrag.get(ufrag);
    if (!reg) {
      this.counters.unknownSource++;
      return;
    }
    if (!reg.endpoint.onBindingRequest(data, addressOf(address, ip4), ip4, port)) {
      this.counters.rejectedAdmission++;
      return;
    }
    if (v4 >= 0) {
      if (this.byV4.get(v4) !== reg) {
        this.counters.admitted++;
        bind(this.byV4, reg, reg.v4, v4, this.maxAddressesPerSession);
      }
    } else {
      const k = `${address}|${port}`;
      if (this.byV6.get(k) !== reg) {
        this.counters.admitted++;
        bind(this.byV6, reg, reg.v6, k, this.maxAddressesPerSession);
      }
    }
  }

  /**
   * SRTP/SRTCP (first byte 128–191, RFC 7983) from an address no check bound:
   * if its SSRC (RTP bytes 8–11; RTCP sender SSRC, bytes 4–7, in the clear
   * under SRTP) names a live session, that session tries its keys; a packet
   * that authenticates moves the session to this address, anything else is
   * dropped and counted. Forging a packet that authenticates needs the
   * session's SRTP keys, which only the client and the transceiver hold.
   */
  private fromUnknownAddress(
    data: Buffer,
    address: string | undefined,
    ip4: number,
    port: number,
    v4: number,
  ): void {
    const b0 = data[0] as number;
    if (b0 < 128 || b0 > 191 || data.length < 12) {
      this.counters.unknownSource++;
      return;
    }
    const pt = (data[1] as number) & 0x7f;
    // RTCP packet types 200–207 show as 72–79 with the marker bit masked (RFC 5761 §4).
    const ssrc = pt >= 72 && pt <= 79 ? data.readUInt32BE(4) : data.readUInt32BE(8);
    const reg = this.bySsrc.get(ssrc);
    if (!reg?.endpoint.onUnboundMedia) {
      this.counters.unknownSource++;
      return;
    }
    if (!reg.endpoint.onUnboundMedia(data, address, ip4, port)) {
      this.counters.rejectedSrtp++;
      return;
    }
    this.counters.movedBySrtp++;
    if (v4 >= 0) bind(this.byV4, reg, reg.v4, v4, this.maxAddressesPerSession);
    else bind(this.byV6, reg, reg.v6, `${address}|${port}`, this.maxAddressesPerSession);
  }

  close(): void {
    this.socket.close();
  }
}

function bind<K>(index: Map<K, Registration>, reg: Registration, list: K[], key: K, max: number): void {
  // An address belongs to one session: a new verified session there takes it over.
  const previous = index.get(key);
  if (previous && previous !== reg) {
    const at = (previous.v4 as unknown[]).indexOf(key);
    if (at >= 0) previous.v4.splice(at, 1);
    const at6 = (previous.v6 as unknown[]).indexOf(key);
    if (at6 >= 0) previous.v6.splice(at6, 1);
  }
  index.set(key, reg);
  if (!list.includes(key)) list.push(key);
  while (list.length > max) {
    const old = list.shift() as K;
    if (index.get(old) === reg) index.delete(old);
  }
}
