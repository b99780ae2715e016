import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RUNNER = fileURLToPath(new URL('./firefox/firefox-call.mjs', import.meta.url));
/** The namespace's one non-loopback address: the stack binds it and Firefox gathers on it. */
const HOST = '10.77.0.1';

interface Stats {
  connectionState: string;
  pair?: { state: string; nominated: boolean; remote: string };
  inbound?: { packetsReceived: number; packetsLost: number };
  localSdp?: string;
  remoteSdp?: string;
}

interface FirefoxCall {
  failure?: string;
  pageAtFailure?: unknown;
  connecting?: Stats;
  errors: string[];
  logs: string[];
  relay: string;
  browserVersion: string;
  connectMs: number;
  waterfall: Record<'signaling' | 'ice' | 'dtls' | 'audio', number | null>;
  first: Stats;
  later: Stats;
  audio: { paused: boolean; time: number; live: boolean };
  remoteBadge: string;
  remoteAddress: string;
  channels: [string, string][];
  messages: string[];
  sessionId: string;
  metrics: string;
  deleteStatus: number;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Sum of a Prometheus sample across series whose labels all match. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

// The page served by the real edge (built CLI), driven by Debian's firefox-esr
// headless over WebDriver BiDi (puppeteer-core), through the real relay to the
// real transceiver's echo agent: the same checks as the Chromium test.
//
// Firefox never gathers loopback candidates (media.peerconnection.ice.loopback
// no longer changes that) and will not pair a loopback remote candidate with
// its other interfaces, so a stack on 127.0.0.1 is unreachable to it. The test
// therefore makes its own network namespace with a veth pair, and runs the
// stack and Firefox inside it (firefox/firefox-call.mjs) on that address;
// nothing of the host's network is touched, and the namespace goes at the end.
describe('browser voice client in headless Firefox (WebDriver BiDi), through the local stack', () => {
  const ns = `parley-ff-${process.pid}-${randomBytes(3).toString('hex')}`;
  let call: FirefoxCall;

  beforeAll(async () => {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('-n', ns, 'addr', 'add', `${HOST}/24`, 'dev', 'v0');
    ip('-n', ns, 'link', 'set', 'v0', 'up');
    ip('-n', ns, 'link', 'set', 'v1', 'up');
    call = await new Promise<FirefoxCall>((resolve, reject) => {
      // Its own process group, so a kill takes Firefox and the stack with it.
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, RUNNER], {
        env: { ...process.env, PARLEY_FF_HOST: HOST },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const timer = setTimeout(() => {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      }, 150_000);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const line = stdout.trim().split('\n').pop() ?? '';
        if (line.startsWith('{')) resolve(JSON.parse(line) as FirefoxCall);
        else
          reject(
            new Error(`firefox runner ended (${code ?? signal}) without a result\n${stderr.slice(-3000)}`),
          );
      });
    });
    // A failed run shows why, with ICE's last view, before any assertion.
    if (call.failure)
      console.log(
        `firefox call failed: ${call.failure}\n${JSON.stringify(call.pageAtFailure)}\n${JSON.stringify(call.connecting)}`,
      );
  }, 180_000);

  afterAll(() => {
    // Deleting the namespace also deletes its veth pair.
    try {
      ip('netns', 'del', ns);
    } catch {
      // Never created (beforeAll failed first).
    }
  });

  it('places a call: relay is the selected remote candidate, echo audio flows without loss, events channel open', () => {
    expect(call.failure).toBeUndefined();
    const wf = call.waterfall;
    console.log(
      `${call.browserVersion}: Talk → connected in ${call.connectMs} ms; signaling ${wf.signaling} ms, ice ${wf.ice} ms, dtls ${wf.dtls} ms, first audio ${wf.audio} ms`,
    );
    // The page's waterfall is complete and in order, as with Chromium.
    for (const stage of ['signaling', 'ice', 'dtls', 'audio'] as const)
      expect(wf[stage], stage).toBeGreaterThan(0);
    expect(wf.dtls).toBeGreaterThanOrEqual(wf.ice as number);
    expect(wf.audio).toBeGreaterThanOrEqual(wf.dtls as number);
    expect(call.browserVersion).toMatch(/^firefox\//);
    // Firefox's own view of the path: the nominated pair goes to the relay.
    expect(call.first.connectionState).toBe('connected');
    expect(call.first.pair).toMatchObject({ state: 'succeeded', nominated: true, remote: call.relay });
    expect(call.later.pair?.remote).toBe(call.relay);
    // The echo agent's audio keeps coming, none lost on the namespace's loopback path.
    const received = (call.later.inbound?.packetsReceived ?? 0) - (call.first.inbound?.packetsReceived ?? 0);
    expect(received).toBeGreaterThan(50);
    expect(call.later.inbound?.packetsLost).toBe(0);
    expect(call.audio).toMatchObject({ paused: false, live: true });
    expect(call.audio.time).toBeGreaterThan(1);
    // The page's own figures agree.
    expect(call.remoteAddress).toBe(call.relay);
    expect(call.remoteBadge).toBe('relay');
    expect(call.channels).toEqual([['events', 'open']]);
    expect(call.messages.map((m) => (JSON.parse(m) as { type: string }).type)).toContain('session.ready');
    expect(call.errors).toEqual([]);
  });

  it("Firefox's SRTP and SRTCP went through Parley's SRTP path both ways, none failing authentication", () => {
    expect(call.failure).toBeUndefined();
    const srtp = (kind: string, direction: string) =>
      metric(call.metrics, 'parley_transceiver_srtp_packets_total', { kind, direction });
    expect(srtp('rtp', 'in')).toBeGreaterThan(100);
    expect(srtp('rtp', 'out')).toBeGreaterThan(50);
    expect(srtp('rtcp', 'in')).toBeGreaterThan(0);
    expect(metric(call.metrics, 'parley_transceiver_srtp_dropped_total')).toBe(0);
  });

  it('negotiates as Firefox expects: session-level ice-lite, Firefox the DTLS client, one BUNDLE transport', () => {
    expect(call.failure).toBeUndefined();
    const answer = call.first.remoteSdp ?? '';
    const session = answer.slice(0, answer.indexOf('\nm='));
    // Firefox keeps only a session-level a=ice-lite (RFC 8839); a media-level one it drops.
    expect(session).toMatch(/^a=ice-lite\r?$/m);
    expect(answer).toMatch(/^a=setup:passive/m);
    expect(call.first.localSdp).toMatch(/^a=setup:actpass/m);
    expect(answer).toMatch(/^a=group:BUNDLE 0 1/m);
  });

  it('hang-up DELETEs the session and the transceiver frees it', () => {
    expect(call.failure).toBeUndefined();
    expect(call.deleteStatus).toBe(200);
    const closed = call.logs
      .filter((l) => l.startsWith('[transceiver]') && l.includes(call.sessionId))
      .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { msg?: string; reason?: string })
      .find((e) => e.msg === 'session closed');
    expect(closed?.reason).toBe('deleted');
  });
});
