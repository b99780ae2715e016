import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let setprivPath: string | null | undefined;

/** util-linux setpriv on PATH (Linux only: it sets PR_SET_PDEATHSIG). */
export function findSetpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = null;
    if (process.platform === 'linux') {
      for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
        const candidate = join(dir, 'setpriv');
        try {
          accessSync(candidate, constants.X_OK);
          setprivPath = candidate;
          break;
        } catch {
          // not in this directory
        }
      }
    }
  }
  return setprivPath ?? undefined;
}

/**
 * Spawns a child that the kernel signals when this process dies, however it
 * dies (SIGKILL included): `setpriv --pdeathsig <signal>` sets
 * PR_SET_PDEATHSIG and then execs the command, so the pid is the command's.
 * Without setpriv (not Linux) it is a plain spawn; node children of
 * `parley dev` still stop when their IPC channel closes.
 *
 * The kernel ties the signal to the thread that forked the child; Node
 * spawns from its main thread, which lives as long as the process.
 */
export function spawnTied(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  signal: 'TERM' | 'KILL' = 'TERM',
): ChildProcess {
  const setpriv = findSetpriv();
  if (!setpriv) return spawn(command, [...args], options);
  return spawn(setpriv, ['--pdeathsig', signal, '--', command, ...args], options);
}
