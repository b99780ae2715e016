import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Setup timings from a real Chromium (Debian's, headless, fake microphone):
 * the client browsers actually are. werift as a DTLS client waits a fixed
 * 100 ms before its first ClientHello, so werift-client numbers overstate
 * what a browser sees.
 */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export interface BrowserStages {
  signaling: number;
  iceConnected: number;
  dtlsConnected: number;
  firstAudio: number;
}

export interface BrowserCaller {
  /** One call against `baseUrl` (an edge, or the direct werift peer): POST, connect, first echoed audio, DELETE. */
  call(baseUrl: string, token: string | undefined): Promise<BrowserStages>;
  close(): Promise<void>;
}

/** Undefined when Chromium or playwright-core is not installed here. */
export async function launchBrowserCaller(): Promise<BrowserCaller | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return undefined;
  }
  const profile = await mkdtemp(join(tmpdir(), 'parley-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    async call(baseUrl, token) {
      // Any page of the target's origin: the POST is then same-origin, no CORS involved.
      if (new URL(page.url()).origin !== new URL(baseUrl).origin)
        await page.goto(new URL('/livez', baseUrl).toString());
      return page.evaluate(browserCall, { token });
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** The few browser APIs the page code uses (this package compiles without DOM types). */
interface Track {
  muted: boolean;
  addEventListener(type: 'unmute', fn: () => void, opts: { once: boolean }): void;
  stop(): void;
}
interface Stream {
  getTracks(): Track[];
}
interface PeerConnection {
  iceConnectionState: string;
  connectionState: string;
  localDescription: { sdp: string } | null;
  addEventListener(type: string, fn: (e: { track: Track }) => void): void;
  addTrack(track: Track, stream: Stream): void;
  createOffer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(d: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(d: { type: string; sdp: string }): Promise<void>;
  close(): void;
}
interface BrowserGlobals {
  navigator: { mediaDevices: { getUserMedia(c: { audio: boolean }): Promise<Stream> } };
  RTCPeerConnection: new () => PeerConnection;
}

/**
 * Runs in the page (serialized by playwright, so it must not use anything
 * from this module). Times each stage from just before createOffer, as
 * runCall does; first audio is the remote track unmuting with its first
 * RTP packet, the echo of ours.
 */
async function browserCall({ token }: { token: string | undefined }): Promise<BrowserStages> {
  const g = globalThis as unknown as BrowserGlobals;
  const stream = await g.navigator.mediaDevices.getUserMedia({ audio: true });
  const pc = new g.RTCPeerConnection();
  const t0 = performance.now();
  const at: { ice?: number; dtls?: number; audio?: number; signaling?: number } = {};
  const iceUp = new Promise<void>((resolve) =>
    pc.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'connected' && at.ice === undefined) {
        at.ice = performance.now() - t0;
        resolve();
      }
    }),
  );
  const dtlsUp = new Promise<void>((resolve, reject) =>
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') {
        at.dtls = performance.now() - t0;
        resolve();
      } else if (pc.connectionState === 'failed') reject(new Error('connection failed'));
    }),
  );
  const firstAudio = new Promise<void>((resolve) =>
    pc.addEventListener('track', (e) => {
      const done = () => {
        at.audio ??= performance.now() - t0;
        resolve();
      };
      if (!e.track.muted) done();
      else e.track.addEventListener('unmute', done, { once: true });
    }),
  );
  for (const t of stream.getTracks()) pc.addTrack(t, stream);
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let location: string | null = null;
  try {
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch('/v1/sessions?agent=rtp-echo', {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...auth },
      body: pc.localDescription?.sdp ?? '',
    });
    if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
    location = res.headers.get('location');
    at.signaling = performance.now() - t0;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await Promise.race([
      Promise.all([iceUp, dtlsUp, firstAudio]),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no audio within 10 s')), 10_000)),
    ]);
    return {
      signaling: at.signaling,
      iceConnected: at.ice ?? Number.NaN,
      dtlsConnected: at.dtls ?? Number.NaN,
      firstAudio: at.audio ?? Number.NaN,
    };
  } finally {
    if (location) await fetch(location, { method: 'DELETE', headers: auth }).catch(() => undefined);
    pc.close();
    for (const t of stream.getTracks()) t.stop();
  }
}
