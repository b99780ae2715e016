import { Worker } from 'node:worker_threads';

export interface ExitWatchdog {
  /** SIGKILL this process in `ms` unless disarmed first. */
  arm(ms: number): void;
  /** The process is exiting on its own: stand down. */
  disarm(): void;
}

// Slot 0: 0 idle, 1 armed, 2 disarmed. Slot 1: the deadline in ms once armed.
// No imports (process.getBuiltinModule works in a script and a module alike), so it runs from
// src/ and dist/, under any loader flags.
const WATCHDOG_SOURCE = `
const { workerData } = process.getBuiltinModule('node:worker_threads');
const s = new Int32Array(workerData.state);
Atomics.wait(s, 0, 0);
if (Atomics.load(s, 0) === 1) {
  const ms = Atomics.load(s, 1);
  if (Atomics.wait(s, 0, 1, ms) === 'timed-out') {
    try { process.getBuiltinModule('node:fs').writeSync(2, 'parley: shutdown exceeded ' + ms + ' ms; killing the process\\n'); } catch {}
    process.kill(workerData.pid, 'SIGKILL');
  }
}
`;

/**
 * A thread that can SIGKILL this process when a shutdown overruns. A timer on
 * the main thread is not enough: a main thread stuck in a system call or a
 * busy-wait (a log flush into a broken pipe, in an 'exit' handler) never runs
 * it, nor a second signal. Started before the process serves, so that nothing
 * has to be created once things are stuck; it waits in Atomics.wait, unref'd,
 * so it neither keeps the process alive nor delays process.exit().
 */
export function startExitWatchdog(): ExitWatchdog {
  const state = new SharedArrayBuffer(8);
  const s = new Int32Array(state);
  const worker = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { state, pid: process.pid },
    // Not the process's flags (--input-type, loaders): the source above needs none of them.
    execArgv: [],
    // No stdio of its own: it must not wait on pipes that may be stuck.
    stdout: false,
    stderr: false,
  });
  worker.unref();
  // A worker that cannot start must not take the process down with an 'error' event.
  worker.on('error', () => undefined);
  return {
    arm(ms) {
      Atomics.store(s, 1, Math.max(1, Math.round(ms)));
      Atomics.compareExchange(s, 0, 0, 1);
      Atomics.notify(s, 0);
    },
    disarm() {
      Atomics.store(s, 0, 2);
      Atomics.notify(s, 0);
    },
  };
}
