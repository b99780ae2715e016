import type { Candidate, CandidatePairState, RTCDataChannel, RTCPeerConnection, StunProtocol } from 'werift';
import { extractSrtpKeys, type SrtpKeyingMaterial, type WeriftDtlsSocket } from './dtls-srtp-keys.js';
import { opusOnlyCodecs } from './opus-codecs.js';
import type { LitePeerSettings } from './settings.js';
import { werift } from './werift-module.js';

/**
 * The transceiver's use of werift, behind one class: werift negotiates SDP,
 * answers ICE-lite checks, runs the DTLS handshake and carries SCTP data
 * channels. It never touches a socket and never sees RTP: datagrams come in
 * through `receive()` from the transceiver's one UDP socket, werift's
 * output leaves through the `DatagramSink`, and once DTLS is up the SRTP
 * keying material (RFC 5764 exporter) is handed to Parley's own SRTP path.
 *
 * Every reach into werift's internals is in this file, with the reason.
 */

/** Where werift's outgoing datagrams (STUN responses, DTLS, SCTP) go. */
export interface DatagramSink {
  send(data: Buffer, port: number, address: string): void;
}

export type { SrtpKeyingMaterial } from './dtls-srtp-keys.js';

/** The `events` data channel, as much of it as a session uses. */
export interface EventChannel {
  readonly label: string;
  readonly open: boolean;
  readonly bufferedAmount: number;
  send(text: string): void;
  onOpen(fn: () => void): void;
  /** Text the client sends (the Realtime `oai-events` channel carries client events). */
  onMessage(fn: (text: string) => void): void;
  /** The channel closed (the client reset its stream, or the association ended). */
  onClose(fn: () => void): void;
}

export interface LitePeerOptions {
  /** The client's offer, candidates already stripped. */
  offer: string;
  /** Our ICE credentials: the ufrag is the routing token relays read. */
  localUfrag: string;
  localPassword: string;
  settings: LitePeerSettings;
  sink: DatagramSink;
  onSrtpKeys(keys: SrtpKeyingMaterial): void;
  onConnectionState(state: 'connected' | 'failed' | 'closed'): void;
  onDataChannel(channel: EventChannel): void;
}

export class OfferRejectedError extends Error {
  override readonly name = 'OfferRejectedError';
}

/** What the answer negotiated for the one audio stream we send. */
export interface NegotiatedAudio {
  payloadType: number;
  /** Our outbound SSRC, as werift put it in the answer (a=ssrc). */
  ssrc: number;
  clockRate: number;
}

type Address = [string, number];

/** werift's UDP transport as its StunProtocol uses it. */
interface VirtualTransport {
  readonly type: 'udp';
  readonly socketType: 'udp4' | 'udp6';
  readonly address: { address: string; port: number };
  closed: boolean;
  onData: (data: Buffer, addr: Address) => void;
  send(data: Buffer, addr?: Address): Promise<void>;
  close(): Promise<void>;
}

/** The slice of werift's CandidatePair this adapter touches. */
interface CandidatePairInternals {
  readonly remoteAddr: Address;
  nominated: boolean;
  updateState(state: CandidatePairState): void;
}

/** The slice of werift's ICE Connection this adapter drives. */
interface IceConnectionInternals {
  nominated?: CandidatePairInternals;
  checkList: CandidatePairInternals[];
  /** What werift runs when a check nominates a pair (private in its typings). */
  checkComplete(pair: CandidatePairInternals): void;
  localUsername: string;
  localPassword: string;
  remoteUsername: string;
  remotePassword: string;
  /** ufrag → password: werift signs each check response with the password of the ufrag it names. */
  userHistory: Record<string, string>;
  generation: number;
  protocols: unknown[];
  getCandidatePromises(addresses: string[], timeout?: number): Promise<unknown>[];
  ensureProtocol(protocol: StunProtocol): void;
  pairLocalProtocol(protocol: StunProtocol): void;
  appendLocalCandidate(candidate: Candidate): void;
  resetNominatedPair(): void;
}

/** The slice of werift's RTCDtlsTransport this adapter drives. */
interface DtlsTransportInternals {
  role: string;
  srtpProfiles: number[];
  srtpStarted: boolean;
  startSrtp(): void;
  /** werift's DtlsServer or DtlsClient: set (and listening) once werift starts DTLS. */
  dtls?: WeriftDtlsSocket;
  readonly onStateChange: { subscribe(fn: (state: string) => void): unknown };
}

/** How the DTLS handshake's first datagrams reached werift, per peer (plain integers). */
export interface DtlsIntakeCounters {
  /**
   * Datagrams carrying the client's first ClientHello (epoch 0, message_seq 0,
   * fragment offset 0): 1 when it was answered on the first try, one more
   * for every retransmission of it the client needed.
   */
  clientHellos: number;
  /** DTLS datagrams that arrived before werift's DTLS transport listened: held, then handed over. */
  held: number;
  /** DTLS datagrams that could not be held (the hold was full) or were still held at close. */
  heldDropped: number;
}

/**
 * Datagrams held for werift's DTLS transport before it listens: a client's
 * ClientHello is two datagrams (Chromium's post-quantum key share makes it
 * ~1.4 KB), a retransmission two more.
 */
const MAX_HELD_DTLS = 8;

export class LitePeer {
  private transport?: VirtualTransport;
  private closed = false;
  readonly dtlsIntake: DtlsIntakeCounters = { clientHellos: 0, held: 0, heldDropped: 0 };
  /** DTLS that arrived before werift listened, in arrival order. */
  private held: Array<[Buffer, Address]> = [];
  private dtlsTransport?: DtlsTransportInternals;

  private constructor(
    private readonly pc: RTCPeerConnection,
    private readonly ice: IceConnectionInternals,
    readonly audio: NegotiatedAudio,
    readonly remoteUfrag: string,
    readonly answer: string,
  ) {}

  /** Applies the offer and builds the answer (candidates still werift's: the caller rewrites them). */
  static async negotiate(opts: LitePeerOptions): Promise<LitePeer> {
    const { settings } = opts;
    const v6 = settings.bindAddress.includes(':');
    const pc = new werift.RTCPeerConnection({
      codecs: opusOnlyCodecs(),
      // werift's default is a public STUN server; a private transceiver has no use for one.
      iceServers: [],
      iceLite: true,
      iceUseIpv4: !v6,
      iceUseIpv6: v6,
    });
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected' || s === 'failed' || s === 'closed') opts.onConnectionState(s);
    });
    pc.onDataChannel.subscribe((dc) => opts.onDataChannel(wrapChannel(dc)));
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: opts.offer });
    } catch (err) {
      await pc.close().catch(() => {});
      throw new OfferRejectedError(`offer rejected: ${(err as Error).message}`, { cause: err });
    }
    try {
      const audio = pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!audio) throw new OfferRejectedError('offer has no audio section');
      const opus = audio.codecs.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
      if (!opus) throw new OfferRejectedError('offer does not support Opus');
      const iceTransport = pc.iceTransports[0];
      if (!iceTransport) throw new OfferRejectedError('offer produced no ICE transport');
      // Reach-in: the ufrag must be set on werift's ICE connection itself
      // (werift ignores or rejects edited answer SDP), and gathering must not
      // bind a socket: the transceiver's one socket feeds this peer instead.
      const ice = iceTransport.connection as unknown as IceConnectionInternals;
      ice.localUsername = opts.localUfrag;
      ice.localPassword = opts.localPassword;

      const peer = new LitePeer(pc, ice, { payloadType: 0, ssrc: 0, clockRate: 48_000 }, '', '');
      ice.getCandidatePromises = () => [Promise.resolve(peer.attachVirtualTransport(opts.sink, settings))];
      audio.setDirection('sendrecv');

      const dtlsTransports = pc.dtlsTransports as unknown as DtlsTransportInternals[];
      // One transport per session (the caller refuses offers with several, see offer-transport.ts).
      peer.dtlsTransport = dtlsTransports[0];
      peer.dtlsTransport?.onStateChange.subscribe((state) => {
        // werift builds its DtlsServer right after announcing `connecting`, in
        // the same synchronous run; what was held goes to it after that run.
        if (state === 'connecting') queueMicrotask(() => peer.releaseHeldDtls());
      });
      for (const t of dtlsTransports) {
        t.role = settings.dtlsRole;
        t.srtpProfiles = [...settings.srtpProfiles];
        // Reach-in: werift would decrypt every packet itself from here on
        // (a new AES cipher per packet); take the keys and stop it instead.
        t.startSrtp = function startSrtpInParley(this: DtlsTransportInternals) {
          if (this.srtpStarted) return;
          this.srtpStarted = true;
          opts.onSrtpKeys(extractSrtpKeys(this.dtls));
        };
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new Error('werift produced no local description');
      const payloadType = audio.sender.codec?.payloadType ?? opus.payloadType;
      return Object.assign(peer, {
        audio: { payloadType, ssrc: audio.sender.ssrc >>> 0, clockRate: opus.clockRate },
        remoteUfrag: ice.remoteUsername,
        answer: sdp,
      });
    } catch (err) {
      await pc.close().catch(() => {});
      throw err;
    }
  }

  /**
   * Reach-in: what werift's gatherCandidates does for one host address,
   * with our transport instead of a bound dgram socket.
   */
  private attachVirtualTransport(sink: DatagramSink, settings: LitePeerSettings): Candidate {
    const ice = this.ice;
    const protocol = new werift.StunProtocol();
    ice.ensureProtocol(protocol);
    // Private in werift's typings; it is the transport's receive callback there too.
    const deliver = protocol as unknown as { datagramReceived(data: Buffer, addr: Address): void };
    const transport: VirtualTransport = {
      type: 'udp',
      socketType: settings.bindAddress.includes(':') ? 'udp6' : 'udp4',
      address: { address: settings.bindAddress, port: settings.port },
      closed: false,
      onData: (data, addr) => deliver.datagramReceived(data, addr),
      send: async (data, addr) => {
        if (!transport.closed && addr) sink.send(data, addr[1], addr[0]);
      },
      close: async () => {
        transport.closed = true;
      },
    };
    this.transport = transport;
    const internals = protocol as unknown as { transport: VirtualTransport; localIp: string };
    internals.transport = transport;
    internals.localIp = settings.bindAddress;
    ice.protocols.push(protocol);
    const candidate = new werift.Candidate(
      werift.candidateFoundation('host', 'udp', settings.bindAddress),
      1,
      'udp',
      werift.candidatePriority('host'),
      settings.bindAddress,
      settings.port,
      'host',
      undefined,
      undefined,
      undefined,
      ice.generation,
      ice.localUsername,
    );
    protocol.localCandidate = candidate;
    ice.pairLocalProtocol(protocol);
    ice.appendLocalCandidate(candidate);
    return candidate;
  }

  /**
   * A datagram for werift (verified STUN, DTLS) from the transceiver's socket.
   * DTLS that arrives before werift's DTLS transport listens (it starts once
   * ICE has selected a pair) is held and handed over when it does: werift
   * would drop it, and the client would only resend it on its retransmit
   * timer (Chromium: 50 ms, then doubling).
   */
  receive(data: Buffer, address: string, port: number): void {
    const b = data[0] as number;
    if (b === 22 && isFirstClientHello(data)) this.dtlsIntake.clientHellos++;
    if (b >= 20 && b < 64 && this.dtlsTransport && !this.dtlsTransport.dtls && !this.closed) {
      if (this.held.length < MAX_HELD_DTLS) {
        this.held.push([data, [address, port]]);
        this.dtlsIntake.held++;
      } else this.dtlsIntake.heldDropped++;
      return;
    }
    if (this.held.length > 0) this.releaseHeldDtls();
    this.transport?.onData(data, [address, port]);
  }

  private releaseHeldDtls(): void {
    if (!this.dtlsTransport?.dtls || this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    for (const [data, addr] of held) this.transport?.onData(data, addr);
  }

  /**
   * The client's first verified check arrived and nothing is nominated yet:
   * select that check's pair in werift now, so its DTLS transport starts
   * listening instead of waiting for the nomination. Reach-in: werift's
   * ICE-lite agent starts DTLS only once a check carries USE-CANDIDATE, but
   * Chromium, seeing `a=ice-lite`, nominates only on a later check (when the
   * pair is writable and selected, ~50 ms on), while it sends its ClientHello
   * as soon as its first check is answered. The pair is marked exactly as
   * werift marks a nominated one; a nomination of another pair later goes
   * through `renominate()`. Returns whether a pair was selected.
   */
  selectBeforeNomination(address: string, port: number): boolean {
    const ice = this.ice;
    if (ice.nominated || this.closed) return false;
    const pair = ice.checkList.find((p) => p.remoteAddr[0] === address && p.remoteAddr[1] === port);
    if (!pair) return false;
    pair.nominated = true;
    pair.updateState(werift.CandidatePairState.SUCCEEDED);
    ice.checkComplete(pair);
    return ice.nominated === pair;
  }

  /**
   * A verified nomination arrived from a new address (relay restart, NAT
   * rebinding): an ice-lite agent keeps its first nominated pair forever
   * (RFC 8445 §7.3.1.5), so let werift nominate again.
   */
  renominate(): void {
    this.ice.resetNominatedPair();
  }

  /**
   * ICE restart (RFC 8445 §9) for an ICE-lite peer that stays connected: new
   * credentials on werift's ICE connection, DTLS and SCTP untouched. Reach-in:
   * werift's own restart() would reset its ICE state machine to `new` and drop
   * the selected pair, which for a lite agent serves nothing (it only answers
   * checks); we swap the credentials and let the next nomination select a pair.
   * The old ufrag stays answerable (userHistory) until the caller retires it,
   * so checks on the old path still verify while the client switches over.
   */
  restartIce(local: { ufrag: string; pwd: string }, remote: { ufrag: string; pwd: string }): void {
    const ice = this.ice;
    ice.userHistory[ice.localUsername] = ice.localPassword;
    ice.userHistory[local.ufrag] = local.pwd;
    ice.localUsername = local.ufrag;
    ice.localPassword = local.pwd;
    ice.remoteUsername = remote.ufrag;
    ice.remotePassword = remote.pwd;
    ice.resetNominatedPair();
  }

  /** Forgets a ufrag from before a restart (its checks are no longer answered). */
  forgetUfrag(ufrag: string): void {
    if (ufrag !== this.ice.localUsername) delete this.ice.userHistory[ufrag];
  }

  get localPassword(): string {
    return this.ice.localPassword;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dtlsIntake.heldDropped += this.held.length;
    this.held = [];
    if (this.transport) this.transport.closed = true;
    await this.pc.close();
  }
}

/**
 * A DTLS record (RFC 6347 §4.1) carrying the start of a ClientHello that
 * opens a handshake: content type 22 (handshake), epoch 0, handshake type 1,
 * message_seq 0, fragment offset 0. The ClientHello a client sends again
 * with the server's cookie has message_seq 1, so it is not counted.
 */
function isFirstClientHello(d: Buffer): boolean {
  return (
    d.length >= 25 &&
    d[0] === 22 &&
    d[3] === 0 &&
    d[4] === 0 &&
    d[13] === 1 &&
    d[17] === 0 &&
    d[18] === 0 &&
    d[19] === 0 &&
    d[20] === 0 &&
    d[21] === 0
  );
}

function wrapChannel(dc: RTCDataChannel): EventChannel {
  return {
    label: dc.label,
    get open() {
      return dc.readyState === 'open';
    },
    get bufferedAmount() {
      return dc.bufferedAmount;
    },
    send: (text) => dc.send(text),
    onOpen: (fn) => {
      if (dc.readyState === 'open') fn();
      else dc.stateChanged.subscribe((s) => s === 'open' && fn());
    },
    onMessage: (fn) => dc.onMessage.subscribe((m) => fn(typeof m === 'string' ? m : m.toString('utf8'))),
    onClose: (fn) => dc.stateChanged.subscribe((s) => s === 'closed' && fn()),
  };
}
