import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const run = promisify(execFile);

/** Runs the built CLI; resolves with its exit code and output whatever the code. */
async function parley(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('parley loadtest against parley dev', () => {
  let stack: DevStack;

  beforeAll(async () => {
    stack = await startDevStack({
      httpPort: await freeTcpPort(),
      relayPort: await freeUdpPort(),
      icePort: await freeUdpPort(),
      env: { PARLEY_LOG_LEVEL: 'warn' },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('opens every session through the relay and summarizes setup, RTT and loss as JSON', async () => {
    const r = await parley(
      ['loadtest', stack.edgeUrl, '--sessions', '4', '--ramp', '8', '--duration', '1', '--json'],
      { PARLEY_TOKEN: stack.token },
    );
    expect(r.stderr).toMatch(/started \d+\/4/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.sessions).toEqual({ started: 4, completed: 4, failed: 0 });
    // 4 calls x 1 s x 50 packets/s, every one echoed.
    expect(s.packets).toEqual({ sent: 200, received: 200, lost: 0, lossPercent: 0 });
    expect(s.rttMs.samples).toBe(200);
    expect(s.rttMs.p50).toBeGreaterThan(0);
    expect(s.rttMs.p99).toBeGreaterThanOrEqual(s.rttMs.p50);
    expect(s.setupMs.dtlsConnected.p50).toBeGreaterThan(s.setupMs.signaling.p50);
    expect(s.setupMs.firstAudio.p95).toBeGreaterThanOrEqual(s.setupMs.dtlsConnected.p50);
    expect(s.failures).toEqual({});
  });

  it('counts failures by reason and exits 1 when the edge refuses the token', async () => {
    const r = await parley([
      'loadtest',
      stack.edgeUrl,
      '--token',
      'not-a-jwt',
      '--sessions',
      '3',
      '--ramp',
      '30',
      '--duration',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('3 started, 0 completed, 3 failed');
    expect(r.stdout).toMatch(/signaling 401: 3 {2}\(edge answered 401/);
  });

  it('rejects out-of-range flags with exit status 2 and says which one', async () => {
    const r = await parley(['loadtest', stack.edgeUrl, '--sessions', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sessions must be a number from 1 to 10000');
    const help = await parley(['loadtest', '--help']);
    for (const flag of [
      '--sessions',
      '--ramp',
      '--duration',
      '--rate',
      '--agent',
      '--setup-timeout',
      '--deadline',
      '--json',
      '--token',
    ])
      expect(help.stdout).toContain(flag);
  });
});
