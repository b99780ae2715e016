/**
 * werift as a WebRTC *client*: the call client, load generators and tests
 * drive real werift peers against Parley, and benchmarks and interop tests
 * compare Parley's SRTP with werift's. They import it from here, so this
 * folder stays the one place in the repository that imports werift (the
 * transceiver's own use is lite-peer.ts).
 */
import { TcpActiveProtocol } from 'werift';
import { disableNagleOnWeriftTcp } from './werift-tcp-nodelay.js';

export {
  MediaStreamTrack,
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  type RTCDataChannel,
  RTCDtlsTransport,
  RTCPeerConnection,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
  SrtcpSession,
  SrtpSession,
} from 'werift';

// ICE-TCP clients (`parley call --tcp`, the TCP bench) send each frame at once.
disableNagleOnWeriftTcp(TcpActiveProtocol);
