import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { OPUS_PAYLOAD_TYPE, opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
} from '@parley/shared/webrtc/werift-client.js';

/**
 * The baseline for setup latency: a bare werift peer configured like a
 * transceiver session (ICE-lite, loopback, Opus only, echo) that takes the
 * offer over plain HTTP and answers with its own host candidate. No edge,
 * JWT, NATS, routing token, STUN guard or relay: what is left is werift.
 * It speaks the same POST/DELETE as the edge, so the same client measures both.
 * Its answer keeps werift's media-level a=ice-lite, which browsers ignore
 * (RFC 8839 puts it at session level): Chromium takes this peer for a full
 * ICE agent and nominates on its first check, so bare werift starts DTLS in
 * time here. Lifted to the session, as transceivers answer, Chromium
 * nominates ~50 ms later and bare werift misses its first ClientHello (the
 * transceiver does not: LitePeer.selectBeforeNomination).
 */
const CODECS = opusOnlyCodecs();

export class DirectPeerServer {
  private server?: Server;
  private readonly sessions = new Map<string, RTCPeerConnection>();

  async start(): Promise<{ url: string }> {
    const server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, headers, body }) => {
          res.writeHead(status, headers);
          res.end(body);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(err.message);
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    return { url: `http://127.0.0.1:${addr.port}` };
  }

  get open(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((pc) => pc.close().catch(() => undefined)));
    this.sessions.clear();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname === '/v1/sessions') {
      const offer = await readBody(req);
      const id = randomBytes(8).toString('hex');
      const answer = await this.answer(id, offer);
      return {
        status: 201,
        headers: { 'content-type': 'application/sdp', location: `/v1/sessions/${id}` },
        body: answer,
      };
    }
    // A page of this origin for a browser client to call from (same-origin POST, no CORS).
    if (req.method === 'GET' && url.pathname === '/livez')
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
    const m = /^\/v1\/sessions\/([0-9a-f]+)$/.exec(url.pathname);
    if (req.method === 'DELETE' && m) {
      const pc = this.sessions.get(m[1] as string);
      if (!pc) return { status: 404, headers: {}, body: '' };
      this.sessions.delete(m[1] as string);
      await pc.close();
      return { status: 204, headers: {}, body: '' };
    }
    return { status: 404, headers: {}, body: '' };
  }

  private async answer(id: string, offer: string): Promise<string> {
    const pc = new RTCPeerConnection({
      codecs: CODECS,
      iceServers: [],
      iceLite: true,
      iceUseIpv4: true,
      iceUseIpv6: false,
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
    });
    this.sessions.set(id, pc);
    const out = new MediaStreamTrack({ kind: 'audio' });
    let seq = randomBytes(2).readUInt16BE(0);
    let connected = false;
    pc.connectionStateChange.subscribe((s) => {
      connected = s === 'connected';
    });
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        if (!connected) return;
        seq = (seq + 1) & 0xffff;
        out.writeRtp(
          new RtpPacket(
            new RtpHeader({
              payloadType: OPUS_PAYLOAD_TYPE,
              sequenceNumber: seq,
              timestamp: rtp.header.timestamp,
            }),
            rtp.payload,
          ),
        );
      });
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const audio = pc.getTransceivers().find((t) => t.kind === 'audio');
    if (!audio) throw new Error('offer has no audio');
    audio.setDirection('sendrecv');
    audio.sender.replaceTrack(out);
    // The same DTLS role choice as a transceiver session (core/src/session/dtls-role.ts).
    const passiveOffer = /^a=setup:passive\s*$/im.test(offer);
    for (const t of pc.dtlsTransports) t.role = passiveOffer ? 'client' : 'server';
    await pc.setLocalDescription(await pc.createAnswer());
    return candidatesOnLoopback(pc.localDescription?.sdp ?? '');
  }
}

/**
 * werift binds the loopback address it was given but advertises the host's
 * interface address in its candidates; a transceiver replaces them with the
 * relay's, and this peer with the loopback address its socket is bound to.
 */
export function candidatesOnLoopback(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !(l.startsWith('a=candidate:') && l.split(' ')[4]?.includes(':')))
    .map((l) => {
      if (!l.startsWith('a=candidate:')) return l;
      const f = l.split(' ');
      f[4] = '127.0.0.1';
      return f.join(' ');
    })
    .join('\r\n');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > 65_536) reject(new Error('offer too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
