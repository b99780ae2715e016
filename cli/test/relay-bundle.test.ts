import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `parley relay` runs from a V8 startup snapshot of its bundled code (cli/dist/relay.blob), else from one
// esbuild bundle (cli/dist/relay-bundle.mjs), so a restarted relay forwards sooner; each must behave as the
// unbundled CLI does, and must really be the one that runs.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../dist/relay-bundle.mjs', import.meta.url));
const BLOB = fileURLToPath(new URL('../dist/relay.blob', import.meta.url));

function parley(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code) : 0, out, err }),
    ),
  );
}

/** Starts a relay at info level and returns the fields of its 'relay start-up phases' line. */
async function startupLine(natsUrl: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [MAIN, 'relay'], {
    env: {
      ...process.env,
      NATS_URL: natsUrl,
      PARLEY_TOKEN_KEYS: `1:${randomBytes(32).toString('base64')}`,
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(await freeUdpPort()),
      PARLEY_RELAY_TCP_PORT: '0',
      PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
      PARLEY_METRICS_PORT: '0',
      PARLEY_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    return await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no start-up line in 20 s:\n${out}`)), 20_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('relay start-up phases'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`relay exited (${code}):\n${out}`)));
    });
  } finally {
    child.kill('SIGKILL');
  }
}

describe('parley relay from its snapshot or bundle', { timeout: 90_000 }, () => {
  let nats: NatsServerProcess;
  beforeAll(async () => {
    nats = await NatsServerProcess.start();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('the build wrote the bundle and the snapshot, stamped with the Node that built it', () => {
    expect(existsSync(BUNDLE)).toBe(true);
    expect(existsSync(BLOB)).toBe(true);
    const stamp = JSON.parse(readFileSync(`${BLOB}.json`, 'utf8'));
    expect(stamp).toEqual({ node: process.version, arch: process.arch, platform: process.platform });
  });

  it('prints the same help and usage errors, with the same exit codes, from the snapshot, the bundle and the modules', async () => {
    for (const args of [
      ['relay', '--help'],
      ['relay', '--bogus'],
      ['relay', 'extra'],
    ]) {
      const fromSnapshot = await parley(args, {});
      const bundled = await parley(args, { PARLEY_CLI_SNAPSHOT: '0' });
      const unbundled = await parley(args, { PARLEY_CLI_BUNDLE: '0' });
      expect(fromSnapshot, args.join(' ')).toEqual(unbundled);
      expect(bundled, args.join(' ')).toEqual(unbundled);
    }
    expect((await parley(['relay', '--help'], {})).out).toContain('Usage: parley relay');
  });

  it('starts from the snapshot, else the bundle (PARLEY_CLI_SNAPSHOT=0), else its modules (PARLEY_CLI_BUNDLE=0)', async () => {
    const snapshot = await startupLine(nats.url, {});
    expect(snapshot.loadedFrom).toBe('snapshot');
    const ms = snapshot.ms as Record<string, number>;
    // main.js's own start before its execve() counts: every phase is later than it.
    expect(ms.exec).toBeGreaterThan(0);
    expect(ms.listening).toBeGreaterThan(ms.exec as number);
    // It joined NATS and opened its flow cache: the nats.js client and the JetStream KV run from the blob.
    expect(ms).toHaveProperty('nats');
    expect(ms).toHaveProperty('flowCache');
    const bundled = await startupLine(nats.url, { PARLEY_CLI_SNAPSHOT: '0' });
    expect(bundled.loadedFrom).toBe('bundle');
    expect(bundled.ms).toHaveProperty('listening');
    const unbundled = await startupLine(nats.url, { PARLEY_CLI_BUNDLE: '0' });
    expect(unbundled.loadedFrom).toBe('modules');
    expect(unbundled.ms).toHaveProperty('listening');
  });

  it('a preloaded module (an APM agent) keeps the relay on its bundle, where the preload runs', async () => {
    // Node ignores --import with a user snapshot, and a --require of node:v8 aborted the relay (see hasPreload).
    const probe = fileURLToPath(new URL('./support/gc-probe.cjs', import.meta.url));
    const line = await startupLine(nats.url, {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`.trim(),
    });
    expect(line.loadedFrom).toBe('bundle');
    expect(line.ms).toHaveProperty('listening');
  });

  it('a blob stamped by another Node is not used: the relay starts from the bundle', async () => {
    const stampFile = `${BLOB}.json`;
    const stamp = readFileSync(stampFile, 'utf8');
    try {
      writeFileSync(stampFile, JSON.stringify({ ...JSON.parse(stamp), node: 'v0.0.0' }));
      const line = await startupLine(nats.url, {});
      expect(line.loadedFrom).toBe('bundle');
    } finally {
      writeFileSync(stampFile, stamp);
    }
  });
});
