/**
 * werift as a WebRTC *client*: the call client, load generators and tests
 * drive real werift peers against Parley, and benchmarks and interop tests
 * compare Parley's SRTP with werift's. They import it from here, so this
 * folder stays the one place in the repository that imports werift (the
 * transceiver's own use is lite-peer.ts).
 */
import { werift } from './werift-module.js';
import { disableNagleOnWeriftTcp } from './werift-tcp-nodelay.js';

export type { RTCDataChannel, RTCRtpTransceiver } from 'werift';

// The classes of the one werift this process runs (werift-module.ts), under their usual names, each also
// naming its instances' type as an import of the class would.
export const {
  MediaStreamTrack,
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RTCDtlsTransport,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
  SrtcpSession,
  SrtpSession,
} = werift;
export type MediaStreamTrack = InstanceType<typeof MediaStreamTrack>;
export type RTCDtlsTransport = InstanceType<typeof RTCDtlsTransport>;
export type RTCPeerConnection = InstanceType<typeof RTCPeerConnection>;
export type RtpHeader = InstanceType<typeof RtpHeader>;
export type RtpPacket = InstanceType<typeof RtpPacket>;
export type SrtcpSession = InstanceType<typeof SrtcpSession>;
export type SrtpSession = InstanceType<typeof SrtpSession>;

// ICE-TCP clients (`parley call --tcp`, the TCP bench) send each frame at once.
disableNagleOnWeriftTcp(werift.TcpActiveProtocol);
