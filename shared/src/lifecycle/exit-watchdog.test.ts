import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const WATCHDOG = fileURLToPath(new URL('./exit-watchdog.ts', import.meta.url));

/** Runs a child that starts the watchdog, then does `then` (JavaScript), and reports how it ended. */
function child(then: string): Promise<{ signal: NodeJS.Signals | null; code: number | null; ms: number }> {
  const started = performance.now();
  const p = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { startExitWatchdog } from ${JSON.stringify(WATCHDOG)};
       const w = startExitWatchdog();
       setTimeout(() => { ${then} }, 100);
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve) =>
    p.once('exit', (code, signal) => resolve({ code, signal, ms: performance.now() - started })),
  );
}

describe('exit watchdog (real child processes)', () => {
  it('SIGKILLs a process whose main thread is stuck after arming', async () => {
    // Stuck the way a log flush into a broken pipe is: a busy-wait no timer or signal handler can interrupt.
    const r = await child(
      'w.arm(300); for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);',
    );
    expect(r.signal).toBe('SIGKILL');
    expect(r.ms).toBeLessThan(5_000);
  });

  it('lets a process exit normally, armed or not, and never fires unarmed', async () => {
    expect(await child('w.arm(60000); process.exit(3);')).toMatchObject({ code: 3, signal: null });
    const idle = await child('setTimeout(() => process.exit(4), 600);');
    expect(idle).toMatchObject({ code: 4, signal: null });
  });

  it('stands down when disarmed', async () => {
    const r = await child('w.arm(200); w.disarm(); setTimeout(() => process.exit(5), 600);');
    expect(r).toMatchObject({ code: 5, signal: null });
  });
});
