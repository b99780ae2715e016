/**
 * Captures SRTP/SRTCP test vectors from a real headless Chromium call, once,
 * for shared/src/srtp/chromium-vectors.test.ts (issue 9): Chromium calls a
 * LitePeer (the transceiver's own werift adapter) on a loopback UDP socket of
 * ours; when DTLS is up the adapter hands over the keying material (RFC 5764
 * exporter), and the first SRTP and SRTCP datagrams Chromium sent are saved
 * as they arrived, with Chromium's master key and salt. One call per profile
 * (the adapter offers only that one).
 *
 * Run (from the repo root): npx tsc -b shared && node shared/dist/webrtc/capture-chromium-srtp.js
 * Not used by tests: they read the saved JSON, which keeps them fast and deterministic.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import {
  DTLS_SRTP_AEAD_AES_128_GCM,
  DTLS_SRTP_AES128_CM_HMAC_SHA1_80,
  type SrtpProfile,
} from '../srtp/profiles.js';
import { LitePeer, type SrtpKeyingMaterial } from './lite-peer.js';

const here = dirname(fileURLToPath(import.meta.url));
// The script runs from dist/; fixtures live next to the SRTP source.
const outDir = join(here.replace(join('shared', 'dist'), join('shared', 'src')), '..', 'srtp', 'fixtures');

const RTP_PACKETS = 4;
const RTCP_PACKETS = 2;

async function captureProfile(profile: SrtpProfile, profileId: number): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  let keys: SrtpKeyingMaterial | undefined;
  let peer: LitePeer | undefined;
  sock.on('message', (msg, from) => {
    const b = msg[0] as number;
    if (b >= 128 && b < 192) {
      // RFC 5761: RTCP packet types 192-223 in the second byte.
      const pt = msg[1] as number;
      const isRtcp = pt >= 192 && pt <= 223;
      if (isRtcp && rtcp.length < RTCP_PACKETS) rtcp.push(Buffer.from(msg));
      else if (!isRtcp && rtp.length < RTP_PACKETS) rtp.push(Buffer.from(msg));
      return;
    }
    peer?.receive(Buffer.from(msg), from.address, from.port);
  });

  const userData = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(userData, {
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
    ],
  });
  const http = createServer((_req, res) => res.end('<html><body>capture</body></html>'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    // Page code as strings: this package is compiled without DOM types.
    const offer = await page.evaluate<string>(`(async () => {
      const pc = new RTCPeerConnection();
      globalThis.pc = pc;
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription.sdp;
    })()`);
    const connected = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('DTLS never came up')), 15_000);
      peer = undefined;
      void LitePeer.negotiate({
        offer: offer.replace(/^a=candidate:.*\r?\n/gm, ''),
        localUfrag: 'capture',
        localPassword: 'capturecapturecapture1',
        settings: { bindAddress: '127.0.0.1', port, dtlsRole: 'server', srtpProfiles: [profileId] },
        sink: { send: (d, p, a) => sock.send(d, p, a) },
        onSrtpKeys: (k) => {
          keys = k;
          clearTimeout(t);
          resolve();
        },
        onConnectionState: () => undefined,
        onDataChannel: () => undefined,
      }).then(async (p) => {
        peer = p;
        await page.evaluate(
          `globalThis.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(p.answer)} })`,
        );
      }, reject);
    });
    await connected;
    const deadline = Date.now() + 15_000;
    while ((rtp.length < RTP_PACKETS || rtcp.length < RTCP_PACKETS) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    if (!keys || rtp.length < RTP_PACKETS || rtcp.length < RTCP_PACKETS)
      throw new Error(`${profile}: got ${rtp.length} RTP and ${rtcp.length} RTCP packets`);
    if (keys.profile !== profile) throw new Error(`negotiated ${keys.profile}, wanted ${profile}`);
    const file = join(outDir, `chromium-${profile.toLowerCase()}.json`);
    const version = context.browser()?.version() ?? (await page.evaluate<string>('navigator.userAgent'));
    await writeFile(
      file,
      `${JSON.stringify(
        {
          capturedWith: `headless Debian Chromium (${version}) → LitePeer (werift adapter), fake microphone`,
          profile,
          // Chromium's side: the key and salt that protected these packets.
          masterKey: keys.remoteKey.toString('hex'),
          masterSalt: keys.remoteSalt.toString('hex'),
          opusPayloadType: Number(/^a=rtpmap:(\d+) opus\//im.exec(peer?.answer ?? '')?.[1]),
          rtp: rtp.map((p) => p.toString('hex')),
          rtcp: rtcp.map((p) => p.toString('hex')),
        },
        null,
        2,
      )}\n`,
    );
    console.log(`${profile}: ${rtp.length} RTP, ${rtcp.length} RTCP -> ${file}`);
  } finally {
    await peer?.close();
    await context.close();
    http.close();
    sock.close();
    await rm(userData, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await captureProfile('AES_CM_128_HMAC_SHA1_80', DTLS_SRTP_AES128_CM_HMAC_SHA1_80);
  await captureProfile('AEAD_AES_128_GCM', DTLS_SRTP_AEAD_AES_128_GCM);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
