import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';

/** Debian's python3 (`.ci/run` installs python3-aiortc and GStreamer's webrtcbin for it). */
const PYTHON = process.env.PARLEY_INTEROP_PYTHON ?? '/usr/bin/python3';
const script = (name: string) => fileURLToPath(new URL(`./interop/${name}`, import.meta.url));

/** Short, so that "outlives the consent timeout" takes seconds, not the RFC's 30. */
const CONSENT_TIMEOUT_MS = 2_000;
/** Calls that must outlive consent run this long from the answer: four consent windows. */
const LONG_CALL_S = (4 * CONSENT_TIMEOUT_MS) / 1000;
/** Echo heard over at least this span: without media keeping consent it stops after one window. */
const LONG_SPAN_S = (2.5 * CONSENT_TIMEOUT_MS) / 1000;

interface CallResult {
  status: number;
  problem?: string;
  contentType?: string;
  offer?: string;
  answer?: string;
  location?: string;
  states: string[];
  finalState?: string;
  deleteStatus?: number;
  messages: string[];
  /** aiortc: decoded 20 ms frames; webrtcbin: decoded buffers. */
  framesReceived?: number;
  loudFrames?: number;
  buffersReceived?: number;
  loudBuffers?: number;
  /** From the first loud frame heard to the last, and from the last to the end of the call (s). */
  loudSpanS?: number;
  lastLoudAgoS?: number;
}

/** Runs one client call to completion (bounded by its own timer, and by a kill here). */
function runClient(name: string, args: string[], seconds: number): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [script(name), ...args, '--seconds', String(seconds)],
      { timeout: (seconds + 20) * 1000, killSignal: 'SIGKILL', maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        if (err || !line.startsWith('{'))
          reject(new Error(`${name} failed: ${err?.message ?? 'no result'}\n${stderr.slice(-2000)}`));
        else resolve(JSON.parse(line) as CallResult);
      },
    );
  });
}

const ufrags = (sdp: string | undefined) =>
  [...(sdp ?? '').matchAll(/^a=ice-ufrag:(\S+)/gm)].map((m) => m[1]);

// Independent WebRTC stacks against the real local stack (nats-server,
// transceiver, relay, edge as separate processes): python3-aiortc and
// GStreamer webrtcbin (libnice), each sending a tone the echo agent returns.
describe('interop: aiortc and GStreamer webrtcbin through the local stack', () => {
  let stack: DevStack;
  const logs: string[] = [];

  beforeAll(async () => {
    const [httpPort, relayPort, icePort] = await Promise.all([freeTcpPort(), freeUdpPort(), freeUdpPort()]);
    stack = await startDevStack({
      httpPort,
      relayPort,
      icePort,
      output: (l) => logs.push(l),
      env: { PARLEY_LOG_LEVEL: 'info', PARLEY_CONSENT_TIMEOUT_MS: String(CONSENT_TIMEOUT_MS) },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const common = () => ['--edge', stack.edgeUrl, '--token', stack.token];

  /** The reason the transceiver logged for closing a session, once it has. */
  async function closeReason(location: string | undefined, timeoutMs = 5_000): Promise<string | undefined> {
    // The log names the session without the Location's suffix after a dot, if any.
    const sessionId = location?.split('/').pop()?.split('.')[0];
    expect(sessionId).toBeTruthy();
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      for (const line of logs) {
        if (!line.startsWith('[transceiver]') || !line.includes(sessionId as string)) continue;
        const entry = JSON.parse(line.slice(line.indexOf('{'))) as { msg?: string; reason?: string };
        if (entry.msg === 'session closed') return entry.reason;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  }

  it('aiortc, audio + data channel: bundled sections with their own ICE credentials connect, echo audio and events flow', async () => {
    const r = await runClient('aiortc-call.py', [...common(), '--data-channel'], 4);
    // The offer really is the case at issue: two sections, two ufrags, one BUNDLE group.
    expect(r.offer).toMatch(/^a=group:BUNDLE 0 1/m);
    expect(new Set(ufrags(r.offer)).size).toBe(2);
    expect(r.status).toBe(201);
    // One transport in the answer, carrying the routing token on both sections.
    const answerUfrags = ufrags(r.answer);
    expect(answerUfrags).toHaveLength(2);
    expect(new Set(answerUfrags).size).toBe(1);
    // A routing token (tens of characters), never werift's own 4-character ufrag.
    expect((answerUfrags[0] as string).length).toBeGreaterThan(30);
    expect(r.states).toContain('connected');
    expect(r.finalState).toBe('connected');
    // ~50 frames a second for ~3.5 s of echoed tone.
    expect(r.loudFrames).toBeGreaterThan(100);
    expect(r.messages.map((m) => (JSON.parse(m) as { type: string }).type)).toContain('session.ready');
    expect(r.deleteStatus).toBe(200);
    expect(await closeReason(r.location)).toBe('deleted');
  }, 40_000);

  it(`aiortc without consent checks (as libnice): authenticated media keeps the session for ${LONG_CALL_S} s past a ${CONSENT_TIMEOUT_MS} ms consent timeout`, async () => {
    const r = await runClient('aiortc-call.py', [...common(), '--no-consent'], LONG_CALL_S);
    expect(r.status).toBe(201);
    expect(r.finalState).toBe('connected');
    // The echo kept coming to the end of the call, not just for the first consent window.
    expect(r.loudSpanS).toBeGreaterThan(LONG_SPAN_S);
    expect(r.lastLoudAgoS).toBeLessThan(1);
    expect(r.deleteStatus).toBe(200);
    expect(await closeReason(r.location)).toBe('deleted');
  }, 60_000);

  it('webrtcbin max-bundle, audio + data channel: connects, hears the echo, and outlives the consent timeout without consent checks', async () => {
    const r = await runClient(
      'webrtcbin-call.py',
      [...common(), '--bundle-policy', 'max-bundle', '--data-channel'],
      LONG_CALL_S,
    );
    expect(r.offer).toMatch(/^a=group:BUNDLE audio0 application1/m);
    expect(r.status).toBe(201);
    expect(r.answer).toMatch(/^a=group:BUNDLE audio0 application1/m);
    expect(new Set(ufrags(r.answer)).size).toBe(1);
    expect(r.finalState).toBe('connected');
    // libnice (webrtcbin) sends no RFC 7675 consent checks once connected: only
    // authenticated SRTP kept this session open for four consent windows.
    expect(r.loudSpanS).toBeGreaterThan(LONG_SPAN_S);
    expect(r.lastLoudAgoS).toBeLessThan(1);
    expect(r.messages.map((m) => (JSON.parse(m) as { type: string }).type)).toContain('session.ready');
    expect(r.deleteStatus).toBe(200);
    expect(await closeReason(r.location)).toBe('deleted');
  }, 60_000);

  it('webrtcbin bundle-policy=none, audio only: answered without a BUNDLE group (RFC 8843), connects and hears the echo', async () => {
    const r = await runClient('webrtcbin-call.py', [...common(), '--bundle-policy', 'none'], 3);
    expect(r.offer).not.toMatch(/a=group:BUNDLE/);
    expect(r.status).toBe(201);
    expect(r.answer).not.toMatch(/a=group:BUNDLE/);
    expect(ufrags(r.answer)).toHaveLength(1);
    expect(r.finalState).toBe('connected');
    expect(r.loudBuffers).toBeGreaterThan(50);
    expect(r.deleteStatus).toBe(200);
  }, 40_000);

  it('webrtcbin bundle-policy=none with a data channel (two transports): a 400 problem naming bundle-policy max-bundle', async () => {
    const r = await runClient(
      'webrtcbin-call.py',
      [...common(), '--bundle-policy', 'none', '--data-channel'],
      1,
    );
    expect(r.offer).toMatch(/^m=application/m);
    expect(r.offer).not.toMatch(/a=group:BUNDLE/);
    expect(r.status).toBe(400);
    expect(r.contentType).toContain('application/problem+json');
    const problem = JSON.parse(r.problem as string) as { detail: string };
    expect(problem.detail).toMatch(/no BUNDLE group/);
    expect(problem.detail).toContain('bundle-policy=max-bundle');
  }, 40_000);
});
