import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, freeUdpRange } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';

export interface CoturnOptions {
  /** Ports for relayed addresses: at least one per allocation. */
  relayPorts: number;
  /** Relay threads; 1 for a one-core comparison. */
  threads?: number;
  bin?: string;
}

export interface CoturnServer {
  address: { ip: string; port: number };
  username: string;
  password: string;
  realm: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** The coturn binary and its version, or undefined when it is not installed. */
export function detectCoturn(
  bin = process.env.PARLEY_TURNSERVER_BIN ?? 'turnserver',
): { bin: string; version: string } | undefined {
  try {
    const out = execFileSync(bin, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5_000,
    });
    return { bin, version: out.trim().split('\n')[0] ?? 'unknown' };
  } catch {
    return undefined;
  }
}

/**
 * Runs Debian's coturn on loopback only, with its own temporary config:
 * one long-term-credential user, no CLI, no TLS/DTLS listeners, loopback
 * peers allowed (it refuses them by default), logs in the temp directory.
 */
export async function startCoturn(o: CoturnOptions): Promise<CoturnServer> {
  const found = detectCoturn(o.bin);
  if (!found) throw new Error('coturn (turnserver) is not installed: apt-get install -y coturn');
  const dir = mkdtempSync(join(tmpdir(), 'parley-coturn-'));
  const port = await freeUdpPort();
  const relay = await freeUdpRange(Math.max(16, o.relayPorts));
  const username = 'bench';
  const password = randomBytes(12).toString('hex');
  const realm = 'parley.bench';
  const config = [
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${port}`,
    `min-port=${relay.min}`,
    `max-port=${relay.max}`,
    'lt-cred-mech',
    `user=${username}:${password}`,
    `realm=${realm}`,
    'fingerprint',
    'no-cli',
    'no-tls',
    'no-dtls',
    'no-tcp-relay',
    'allow-loopback-peers',
    'no-multicast-peers',
    `relay-threads=${o.threads ?? 1}`,
    'simple-log',
    `log-file=${join(dir, 'turnserver.log')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    `userdb=${join(dir, 'turndb')}`,
    'no-software-attribute',
    '',
  ].join('\n');
  const confPath = join(dir, 'turnserver.conf');
  writeFileSync(confPath, config, { mode: 0o600 });
  const child = spawn(found.bin, ['-c', confPath, '--no-stdout-log'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-2_000);
  });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await waitForStun(port, child, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    cleanup();
    throw err;
  }
  return {
    address: { ip: '127.0.0.1', port },
    username,
    password,
    realm,
    pid: child.pid as number,
    version: found.version,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
        });
      }
      cleanup();
    },
  };
}

/** Ready when it answers a STUN Binding Request on its port. */
async function waitForStun(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    const deadline = Date.now() + 10_000;
    let answered = false;
    sock.on('message', () => {
      answered = true;
    });
    while (!answered) {
      if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}: ${stderr()}`);
      if (Date.now() > deadline)
        throw new Error(`turnserver did not answer on 127.0.0.1:${port}: ${stderr()}`);
      sock.send(buildBindingRequest(), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    sock.close();
  }
}
