import type { RTCPeerConnection } from 'werift';
import type { SrtpKeyingMaterial } from './lite-peer.js';
import { SRTP_PROFILE_AEAD_AES_128_GCM } from './settings.js';

/**
 * For load generators: a werift *client* does ICE and DTLS as usual, then
 * hands its media to Parley's SRTP path, as the transceiver does. One core
 * of werift's own per-packet path drives far fewer sessions than a
 * transceiver can now take, so without this the capacity bench would
 * measure its generator.
 */

/** The raw datagram path of the nominated candidate pair, under werift. */
export interface RawMediaPath {
  /** Sends one protected RTP/RTCP datagram to the peer. */
  send(data: Buffer): void;
  /** Receives every RTP/RTCP datagram (first byte 128–191) instead of werift. */
  onMedia(fn: (data: Buffer) => void): void;
}

interface DtlsInternals {
  srtpStarted: boolean;
  startSrtp(): void;
  dtls?: {
    srtp: { srtpProfile?: number };
    extractSessionKeys(k: number, s: number): Omit<SrtpKeyingMaterial, 'profile'>;
  };
  iceTransport: { connection: IceInternals };
}

interface IceInternals {
  nominated?: {
    remoteAddr: [string, number];
    protocol: {
      transport: {
        socket: { send(data: Buffer, port: number, address: string, cb?: (err: Error | null) => void): void };
        onData: (data: Buffer, addr: [string, number]) => void;
      };
    };
  };
}

/**
 * Call after setLocalDescription (the DTLS transports exist then) and before
 * the connection comes up. `onReady` runs once DTLS is up, with the keys and
 * the raw path; werift never sees media after that.
 */
export function takeOverClientMedia(
  pc: RTCPeerConnection,
  onReady: (keys: SrtpKeyingMaterial, path: RawMediaPath) => void,
): void {
  for (const t of pc.dtlsTransports as unknown as DtlsInternals[]) {
    t.startSrtp = function startSrtpInParley(this: DtlsInternals) {
      if (this.srtpStarted) return;
      this.srtpStarted = true;
      const dtls = this.dtls;
      const pair = this.iceTransport.connection.nominated;
      const profileId = dtls?.srtp.srtpProfile;
      if (!dtls || !pair || profileId === undefined)
        throw new Error('DTLS up without SRTP keys or a nominated pair');
      const gcm = profileId === SRTP_PROFILE_AEAD_AES_128_GCM;
      const keys: SrtpKeyingMaterial = {
        profile: gcm ? 'AEAD_AES_128_GCM' : 'AES_CM_128_HMAC_SHA1_80',
        ...dtls.extractSessionKeys(16, gcm ? 12 : 14),
      };
      const transport = pair.protocol.transport;
      const [address, port] = pair.remoteAddr;
      let media: (data: Buffer) => void = () => {};
      const toWerift = transport.onData;
      transport.onData = (data, addr) => {
        const b = data[0] as number;
        if (b >= 128 && b < 192) media(data);
        else toWerift(data, addr);
      };
      onReady(keys, {
        send: (data) => transport.socket.send(data, port, address),
        onMedia: (fn) => {
          media = fn;
        },
      });
    };
  }
}
