import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium (`.ci/run` installs it); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
const FAKE_DEVICE = '--use-fake-device-for-media-stream';
const ACCEPT_PROMPTS = '--use-fake-ui-for-media-stream';

/**
 * `fake`: a fake microphone (a beeping tone) and permission prompts that
 * accept themselves. `device-only`: the fake microphone, but prompts are
 * dismissed. `none`: no audio devices at all (this machine has none).
 */
export type MediaMode = 'fake' | 'device-only' | 'none';
const MEDIA_ARGS: Record<MediaMode, string[]> = {
  fake: [ACCEPT_PROMPTS, FAKE_DEVICE],
  'device-only': [FAKE_DEVICE],
  none: [],
};

/** Screenshots for people to look at; test-artifacts/ is gitignored. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a new, empty profile (playwright-core takes the
 * profile directory as launchPersistentContext's argument, not as a flag).
 */
/**
 * A short spoken turn then silence (espeak-ng, see fixtures/make-speech-turn.sh): as the fake
 * microphone, in a loop, it speaks, pauses for the agent's answer, and speaks again.
 */
export const SPEECH_TURN_WAV = fileURLToPath(new URL('./fixtures/speech-turn.wav', import.meta.url));

export async function launchChromium(
  opts: {
    media?: MediaMode;
    audioFile?: string;
    viewport?: { width: number; height: number };
    /** Another launcher for the same browser (e.g. a script running it in a network namespace). */
    executablePath?: string;
    args?: string[];
  } = {},
): Promise<Chromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.executablePath ?? CHROMIUM,
    headless: true,
    args: [
      ...BASE_ARGS,
      ...(opts.args ?? []),
      ...MEDIA_ARGS[opts.media ?? 'fake'],
      // Instead of the stock beep (which never ends a turn): a file played in a loop as the microphone.
      ...(opts.audioFile ? [`--use-file-for-fake-audio-capture=${opts.audioFile}`] : []),
    ],
    viewport: opts.viewport ?? { width: 1100, height: 900 },
  });
  // Let tests read the page's peer connection and data channels through the
  // real browser API (getStats), without a test hook in the page itself.
  await context.addInitScript(() => {
    const w = window as unknown as {
      __pcs: RTCPeerConnection[];
      __dcs: RTCDataChannel[];
      __dcMessages: string[];
    };
    w.__pcs = [];
    w.__dcs = [];
    w.__dcMessages = [];
    const Native = window.RTCPeerConnection;
    class Recorded extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        w.__pcs.push(this);
      }
      override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
        const dc = super.createDataChannel(label, init);
        w.__dcs.push(dc);
        dc.addEventListener('message', (e) => w.__dcMessages.push(String(e.data)));
        return dc;
      }
    }
    window.RTCPeerConnection = Recorded;
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught exceptions of a page, to assert there were none. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export type CallState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'ending' | 'failed';

export async function waitForCallState(page: Page, state: CallState, timeoutMs = 15_000): Promise<void> {
  await page.waitForSelector(`body[data-call-state="${state}"]`, { timeout: timeoutMs });
}

export type WaterfallMs = Record<'signaling' | 'ice' | 'dtls' | 'audio', number | undefined>;

/** The waterfall as the page shows it (each row's `data-ms`). */
export async function readWaterfall(page: Page): Promise<WaterfallMs> {
  return page.$$eval('#waterfall li', (rows) => {
    const out: Record<string, number | undefined> = {};
    for (const r of rows as HTMLElement[]) {
      const ms = r.dataset.ms;
      out[r.dataset.stage as string] = ms === undefined ? undefined : Number(ms);
    }
    return out as WaterfallMs;
  });
}

export interface BrowserStats {
  pair?: { state: string; nominated: boolean; remote: string; local: string };
  inbound?: { packetsReceived: number; packetsLost: number; jitter: number };
  connectionState: string;
}

/** Straight from the page's RTCPeerConnection.getStats(), not from what the page renders. */
export async function browserStats(page: Page): Promise<BrowserStats> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
    if (!pc) throw new Error('the page made no RTCPeerConnection');
    const report = await pc.getStats();
    const all = [...report.values()] as Array<Record<string, unknown>>;
    const transport = all.find((s) => s.type === 'transport');
    const pair = all.find((s) => s.id === transport?.selectedCandidatePairId);
    const addr = (id: unknown) => {
      const c = all.find((s) => s.id === id);
      return c ? `${c.address}:${c.port}` : '';
    };
    const inbound = all.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
    return {
      connectionState: pc.connectionState,
      ...(pair && {
        pair: {
          state: String(pair.state),
          nominated: pair.nominated === true,
          remote: addr(pair.remoteCandidateId),
          local: addr(pair.localCandidateId),
        },
      }),
      ...(inbound && {
        inbound: {
          packetsReceived: Number(inbound.packetsReceived),
          packetsLost: Number(inbound.packetsLost),
          jitter: Number(inbound.jitter),
        },
      }),
    };
  });
}

/**
 * browserStats once the selected pair is nominated (or after `timeoutMs`, as
 * it is then). Chromium, the controlling agent against an ICE-lite peer,
 * sends media on the first pair that answers its checks and nominates it
 * with a later USE-CANDIDATE check, so audio can flow before the pair reads
 * nominated: on a loaded machine the first read came too early.
 */
export async function statsOnceNominated(page: Page, timeoutMs = 5_000): Promise<BrowserStats> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const stats = await browserStats(page);
    if (stats.pair?.nominated || Date.now() >= until) return stats;
    await page.waitForTimeout(50);
  }
}

export async function screenshot(
  page: Page,
  name: string,
  opts: { fullPage?: boolean } = {},
): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, name);
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  return path;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
