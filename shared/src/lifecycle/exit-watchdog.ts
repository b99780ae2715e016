import { Worker } from 'node:worker_threads';

export interface ExitWatchdog {
  /** The process is exiting on its own: stand down. */
  disarm(): void;
}

// Plain CommonJS so it runs from src/ and dist/ alike, without a loader.
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
if (Atomics.wait(flag, 0, 0, workerData.ms) === 'timed-out') {
  try { require('node:fs').writeSync(2, 'parley: shutdown exceeded ' + workerData.ms + ' ms; killing the process\n'); } catch {}
  process.kill(workerData.pid, 'SIGKILL');
}
`;

/**
 * SIGKILLs this process after `ms` unless disarmed, from a worker thread. A
 * timer on the main thread is not enough: a main thread blocked in a system
 * call or a busy-wait (e.g. a synchronous log write into a full pipe whose
 * reader is gone) never runs it, and never handles a second signal either.
 * The worker is unref'd and blocks in Atomics.wait, so it neither keeps the
 * process alive nor delays process.exit().
 */
export function armExitWatchdog(ms: number): ExitWatchdog {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { flag, ms, pid: process.pid },
    // No stdio of its own: it must not wait on the pipes that may be stuck.
    stdout: false,
    stderr: false,
  });
  worker.unref();
  // A worker that cannot start must not take the process down with an 'error' event.
  worker.on('error', () => undefined);
  return {
    disarm() {
      const f = new Int32Array(flag);
      Atomics.store(f, 0, 1);
      Atomics.notify(f, 0);
    },
  };
}
