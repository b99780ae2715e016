/**
 * werift as a WebRTC *client*: the call client, load generators and tests
 * drive real werift peers against Parley. They import it from here, so this
 * folder stays the one place in the repository that imports werift (the
 * transceiver's own use is lite-peer.ts).
 */
export {
  MediaStreamTrack,
  type RTCDataChannel,
  RTCDtlsTransport,
  RTCPeerConnection,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
} from 'werift';
