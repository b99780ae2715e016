import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** Cores on the machine, not the ones this process may run on (pinning the bench itself shrinks that). */
export function coreCount(): number {
  return Math.max(1, cpus().length);
}

let tasksetPath: string | null | undefined;

function taskset(): string | null {
  if (tasksetPath === undefined) {
    try {
      execFileSync('taskset', ['--version'], { stdio: 'ignore' });
      tasksetPath = 'taskset';
    } catch {
      tasksetPath = null;
    }
  }
  return tasksetPath;
}

/** Whether processes can be pinned to one core: util-linux taskset present and more than one core. */
export function canPin(): boolean {
  return taskset() !== null && coreCount() > 1;
}

/**
 * Pins every thread of a running process to one CPU (`taskset -a -p -c`).
 * Threads created later inherit the mask of the thread that creates them.
 * Returns false when pinning is not possible here; the benches then say so.
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  const bin = taskset();
  if (bin === null || cpu >= coreCount()) return false;
  try {
    execFileSync(bin, ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface CpuPlan {
  /** The one core the process under test is pinned to; undefined when pinning is impossible. */
  underTest: number | undefined;
  /** Cores for load generators and sinks (every other core). */
  load: number[];
}

/** CPU roles on this machine: the process under test gets the last core, load generators the rest. */
export function cpuPlan(): CpuPlan {
  const n = coreCount();
  if (!canPin()) return { underTest: undefined, load: [] };
  return { underTest: n - 1, load: Array.from({ length: n - 1 }, (_, i) => i) };
}
