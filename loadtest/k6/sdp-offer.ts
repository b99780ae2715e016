/**
 * Realistic WebRTC offers for signaling load: the shape Chrome sends for a
 * voice call (one bundled Opus audio section, trickle ICE, an ECDSA DTLS
 * fingerprint), with fresh ICE credentials, fingerprint, SSRC and session id
 * every time so no two sessions look alike to the edge or the transceiver.
 * Pure (the random source is a parameter) so Node tests can check what the
 * edge makes of it.
 */
export type RandomBytes = (n: number) => number[];

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function iceString(random: RandomBytes, length: number): string {
  return random(length)
    .map((b) => ICE_CHARS[b % ICE_CHARS.length])
    .join('');
}

function hex(random: RandomBytes, n: number, sep = ''): string {
  return random(n)
    .map((b) => (b & 0xff).toString(16).padStart(2, '0').toUpperCase())
    .join(sep);
}

function uint32(random: RandomBytes): number {
  const [a = 0, b = 0, c = 0, d = 0] = random(4);
  return (((a & 0xff) << 24) | ((b & 0xff) << 16) | ((c & 0xff) << 8) | (d & 0xff)) >>> 0;
}

/** A Chrome-shaped audio-only offer; every identifier is new. */
export function makeOffer(random: RandomBytes): string {
  const sessionId = `${uint32(random)}${uint32(random)}`.slice(0, 19);
  const stream =
    `${hex(random, 4)}-${hex(random, 2)}-${hex(random, 2)}-${hex(random, 2)}-${hex(random, 6)}`.toLowerCase();
  const track =
    `${hex(random, 4)}-${hex(random, 2)}-${hex(random, 2)}-${hex(random, 2)}-${hex(random, 6)}`.toLowerCase();
  const ssrc = uint32(random) || 1;
  const cname = iceString(random, 16).replace(/[+/]/g, 'x');
  return [
    'v=0',
    `o=- ${sessionId} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    `a=msid-semantic: WMS ${stream}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${iceString(random, 4)}`,
    `a=ice-pwd:${iceString(random, 24)}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${hex(random, 32, ':')}`,
    'a=setup:actpass',
    'a=mid:0',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    `a=msid:${stream} ${track}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
    `a=ssrc:${ssrc} cname:${cname}`,
    `a=ssrc:${ssrc} msid:${stream} ${track}`,
    '',
  ].join('\r\n');
}
