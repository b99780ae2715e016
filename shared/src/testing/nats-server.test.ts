import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { NatsServerProcess } from './nats-server.js';
import { descendantsOf, isRunning, waitUntilGone } from './process-table.js';

describe('NatsServerProcess', () => {
  let srv: NatsServerProcess | undefined;
  afterAll(() => srv?.stop());

  it('starts a real server that answers request/reply, and restarts on the same port', async () => {
    srv = await NatsServerProcess.start();
    for (let round = 0; round < 2; round++) {
      const nc = await connect({ servers: srv.url });
      nc.subscribe('echo', {
        callback: (_e, m) => {
          m.respond(m.data);
        },
      });
      const reply = await nc.request('echo', 'hi', { timeout: 2_000 });
      expect(reply.string()).toBe('hi');
      await nc.close();
      await srv.restart();
    }
  });
});

describe('NatsServerProcess when its test worker dies', () => {
  it('the nats-server goes with it (SIGKILL of the worker, checked in /proc)', async () => {
    // A stand-in for a test worker: a separate node process that starts nats-server and is then killed.
    const dist = fileURLToPath(new URL('../../dist/testing/nats-server.js', import.meta.url));
    // Killed, the worker cannot remove its JetStream store: it gets a TMPDIR of its own, removed here.
    const tmp = mkdtempSync(join(tmpdir(), 'parley-nats-worker-'));
    const worker = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { NatsServerProcess } = await import(${JSON.stringify(dist)});
         const s = await NatsServerProcess.start();
         process.stdout.write(s.pid + '\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: tmp } },
    );
    try {
      const natsPid = await new Promise<number>((resolve, reject) => {
        worker.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        worker.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
      });
      expect(isRunning(natsPid)).toBe(true);
      expect(descendantsOf(worker.pid as number).map((r) => r.pid)).toContain(natsPid);
      worker.kill('SIGKILL');
      expect(await waitUntilGone([natsPid], 3_000)).toEqual([]);
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
