import { createSocket, type Socket } from 'node:dgram';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, placeSession, startHarness } from './support/call-harness.js';

const PRIORITY = 0x0024;
const ICE_CONTROLLING = 0x802a;
const USE_CANDIDATE = 0x0025;

/**
 * Before the client nominates, the first verified check's path is where DTLS
 * (and media) go, so a browser's ClientHello is answered at once (see
 * chromium-first-client-hello.test.ts); a nomination of another path then
 * takes over, and is not counted as a path change. Checks are built by hand
 * from two sockets, as a client with two candidates would send them.
 */
describe('the media path before and at the first nomination', () => {
  let h: Harness | undefined;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    h = await startHarness();
  }, 30_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await h?.close();
  });

  async function socket(): Promise<Socket> {
    const s = createSocket('udp4');
    sockets.push(s);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s;
  }

  /** One Binding Request and its response (bounded: 2 s). */
  function check(s: Socket, port: number, username: string, pwd: string, nominate: boolean): Promise<void> {
    const attributes = [
      { type: PRIORITY, value: Buffer.from([0x6e, 0x7f, 0x1e, 0xff]) },
      { type: ICE_CONTROLLING, value: Buffer.alloc(8, 7) },
      ...(nominate ? [{ type: USE_CANDIDATE, value: Buffer.alloc(0) }] : []),
    ];
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no Binding response within 2 s')), 2_000);
      s.once('message', (m) => {
        clearTimeout(timer);
        // 0x0101: Binding success response.
        if (m.readUInt16BE(0) === 0x0101) resolve();
        else reject(new Error(`unexpected STUN type 0x${m.readUInt16BE(0).toString(16)}`));
      });
      s.send(buildBindingRequest({ username, password: pwd, attributes }), port, '127.0.0.1');
    });
  }

  it('takes the first verified check’s path, then moves to the nominated one', async () => {
    const harness = h as Harness;
    const client = new RTCPeerConnection({ codecs: opusOnlyCodecs(), iceServers: [] });
    try {
      client.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
      await client.setLocalDescription(await client.createOffer());
      const offer = client.localDescription?.sdp ?? '';
      const sessionId = `${harness.tx.routeId}-${'firstcheck'.padEnd(22, 'x')}`;
      const answer = await placeSession(harness, {
        sessionId,
        offer,
        relay: { ip: '127.0.0.1', port: harness.tx.mux.port },
        agent: 'rtp-echo',
      });
      const serverUfrag = /^a=ice-ufrag:(\S+)/m.exec(answer)?.[1] as string;
      const serverPwd = /^a=ice-pwd:(\S+)/m.exec(answer)?.[1] as string;
      const clientUfrag = /^a=ice-ufrag:(\S+)/m.exec(offer)?.[1] as string;
      const username = `${serverUfrag}:${clientUfrag}`;
      const port = harness.tx.mux.port;
      const session = harness.tx.sessions.get(sessionId);
      expect(session?.remote).toBeUndefined();

      const a = await socket();
      const b = await socket();
      await check(a, port, username, serverPwd, false);
      // Not nominated yet: the first verified check's path carries DTLS until a nomination.
      expect(session?.remote).toBe(`127.0.0.1:${a.address().port}`);
      await check(b, port, username, serverPwd, false);
      // A second path's check does not take it over.
      expect(session?.remote).toBe(`127.0.0.1:${a.address().port}`);
      await check(b, port, username, serverPwd, true);
      // The nomination decides.
      expect(session?.remote).toBe(`127.0.0.1:${b.address().port}`);
      await check(a, port, username, serverPwd, false);
      expect(session?.remote).toBe(`127.0.0.1:${b.address().port}`);
      await harness.tx.sessions.close(sessionId);
    } finally {
      await client.close();
    }
  });
});
