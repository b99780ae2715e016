import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { spawnTied } from '@parley/shared/lifecycle/spawn-tied.js';

/**
 * How the kernel idles a CPU, read from sysfs: the cpuidle driver and, in a
 * KVM guest with the haltpoll driver, how long an idle vCPU polls before it
 * halts. With `guest_halt_poll_ns` 0 (this VM's kernel command line) an idle
 * vCPU halts at once, and every packet that wakes it pays an exit to the
 * host and the host's scheduling of the vCPU again: on the relay bench that
 * is most of a relay hop's p50 and much of its p99 at 10k packets/s.
 */
export interface CpuIdleInfo {
  driver?: string;
  guestHaltPollNs?: number;
}

export function readCpuIdle(sysfs = '/sys'): CpuIdleInfo {
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(`${sysfs}/${path}`, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const driver = read('devices/system/cpu/cpuidle/current_driver');
  const poll = read('module/haltpoll/parameters/guest_halt_poll_ns');
  return {
    ...(driver !== undefined && { driver }),
    ...(poll !== undefined && Number.isFinite(Number(poll)) && { guestHaltPollNs: Number(poll) }),
  };
}

export interface CoreAwake {
  cpu: number;
  /** The busy loop's pid (setpriv, chrt and taskset exec into it). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Keeps one core out of its idle state with a busy loop at SCHED_IDLE
 * priority (`chrt --idle 0`): any normal task that wakes there preempts it
 * at once, so the process under test runs as on a core that never halts
 * (bare metal with shallow C-states, or a guest that halt-polls). The core
 * then reads 100 % busy; CPU per packet is per process and unaffected. A
 * diagnostic for the bench (`--awake-core`), not something to deploy.
 */
export function keepCoreAwake(cpu: number): CoreAwake | { skipped: string } {
  for (const tool of ['chrt', 'taskset']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      return { skipped: `${tool} (util-linux) is not installed` };
    }
  }
  const child = spawnTied(
    'chrt',
    ['--idle', '0', 'taskset', '-c', String(cpu), 'sh', '-c', 'while :; do :; done'],
    { stdio: 'ignore' },
    'KILL',
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    cpu,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
