import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time and memory of another process from /proc (Linux). The benches
 * measure the process under test from outside, so the numbers include
 * everything it does (GC, libuv threads) and nothing the load generator does.
 */
export interface ProcTimes {
  /** utime + stime of all threads, in clock ticks. */
  ticks: number;
}

/** Parses /proc/<pid>/stat. The command name may contain spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(text: string): ProcTimes {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  // After ") " come field 3 (state) onward; utime and stime are fields 14 and 15.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error('no utime/stime in /proc/<pid>/stat');
  return { ticks: utime + stime };
}

/** VmRSS in bytes from /proc/<pid>/status; NaN when absent (a zombie). */
export function parseRssBytes(statusText: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK): 100 on every Linux we know, but asked rather than assumed. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system, all threads) a live process has used so far. */
export function cpuSecondsOf(pid: number): number {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ticks / clockTicksPerSecond();
}

export function rssBytesOf(pid: number): number {
  return parseRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** CPU used by a process between start() and read(), as seconds and as a share of one core. */
export class CpuMeter {
  private cpu0 = 0;
  private wall0 = 0;

  constructor(
    readonly pid: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): this {
    this.cpu0 = cpuSecondsOf(this.pid);
    this.wall0 = this.now();
    return this;
  }

  read(): { cpuSeconds: number; wallSeconds: number; coreShare: number } {
    const cpuSeconds = cpuSecondsOf(this.pid) - this.cpu0;
    const wallSeconds = (this.now() - this.wall0) / 1000;
    return { cpuSeconds, wallSeconds, coreShare: wallSeconds > 0 ? cpuSeconds / wallSeconds : 0 };
  }
}
