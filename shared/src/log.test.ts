import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger, stdoutLines } from './log.js';

/** Our end of a child's stdin (a real socketpair), with the child's end open or already gone. */
async function pipeToChild(childReads: boolean): Promise<{ fd: number; stop: () => void }> {
  const c = spawn(
    process.execPath,
    ['-e', childReads ? 'setInterval(() => {}, 1000)' : 'setTimeout(() => {}, 20000)'],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  const stdin = c.stdin as unknown as Socket & { _handle: { fd: number } };
  await new Promise((r) => c.once('spawn', r));
  return { fd: stdin._handle.fd, stop: () => c.kill('SIGKILL') };
}

describe('stdoutLines (real file descriptors)', () => {
  it('drops lines, without throwing or blocking, once the reader is gone (EPIPE)', async () => {
    const c = spawn(process.execPath, ['-e', ''], { stdio: ['pipe', 'ignore', 'ignore'] });
    const fd = (c.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    await new Promise((r) => c.once('exit', r));
    const out = stdoutLines(fd);
    const started = performance.now();
    const log = createLogger('t', 'info', out);
    for (let i = 0; i < 100; i++) log.info({ i }, 'after the reader died');
    expect(out.dropped).toBe(100);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('gives up on a line after a bounded wait when the reader stalls (EAGAIN), and keeps going', async () => {
    const { fd, stop } = await pipeToChild(false);
    try {
      const out = stdoutLines(fd);
      const line = `${'x'.repeat(64 * 1024)}\n`;
      const started = performance.now();
      // Far more than a socket buffer holds: the writes must hit EAGAIN, wait at most ~50 ms each, then drop.
      for (let i = 0; i < 40; i++) out.write(line);
      expect(out.dropped).toBeGreaterThan(0);
      expect(performance.now() - started).toBeLessThan(40 * 50 + 1_000);
    } finally {
      stop();
    }
  });
});
