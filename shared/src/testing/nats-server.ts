import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTied } from '../lifecycle/spawn-tied.js';
import { freeTcpPort } from '../net/free-port.js';

/**
 * A real nats-server (Debian package) on a free loopback port, owned by one
 * test file, so tests can stop and restart it. Not a mock.
 */
export class NatsServerProcess {
  private child?: ChildProcess;
  /** JetStream store (the relays' flow cache is a KV bucket); kept across restart(), removed by stop(). */
  private storeDir?: string;
  private constructor(
    readonly port: number,
    private readonly bin: string,
  ) {}

  static async start(bin = process.env.NATS_SERVER_BIN ?? 'nats-server'): Promise<NatsServerProcess> {
    const srv = new NatsServerProcess(await freeTcpPort(), bin);
    await srv.restart();
    return srv;
  }

  /** The nats-server's pid while it runs (tests check the process table with it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: a NATS that accepts TCP but never answers. */
  pause(paused: boolean): void {
    this.child?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    if (this.child) await this.stopProcess();
    this.storeDir ??= mkdtempSync(join(tmpdir(), 'parley-nats-js-'));
    // Tied to the test worker: if it dies (crash, timeout kill), the kernel kills nats-server too.
    const child = spawnTied(
      this.bin,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
      'KILL',
    );
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (e) =>
        reject(new Error(`cannot start ${this.bin}: ${e.message} (apt-get install -y nats-server)`)),
      );
      child.once('exit', (code) =>
        reject(new Error(`nats-server exited with ${code}: ${stderr.slice(-500)}`)),
      );
    });
    await Promise.race([waitForTcp(this.port, 10_000), spawnError]);
    child.removeAllListeners('exit');
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    if (this.storeDir) rmSync(this.storeDir, { recursive: true, force: true });
    this.storeDir = undefined;
  }

  private async stopProcess(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      // A paused server only sees the SIGTERM once it runs again.
      child.kill('SIGCONT');
      setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
    });
  }
}

async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}
