import { readFileSync } from 'node:fs';

/**
 * How busy one CPU core was, from /proc/stat: everything but idle and
 * iowait, including interrupt and softirq time that no process is charged
 * for (loopback delivery runs there). Comparing it with the pinned
 * process's own CPU shows how much else ran on that core.
 */
export function parseCoreTicks(stat: string, cpu: number): { busy: number; total: number } | undefined {
  const line = stat.split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

export class CoreMeter {
  private start?: { busy: number; total: number };

  constructor(readonly cpu: number) {}

  begin(): this {
    this.start = read(this.cpu);
    return this;
  }

  /** Busy share of the core since begin(), 0..1; undefined when /proc/stat is unreadable. */
  busyShare(): number | undefined {
    const end = read(this.cpu);
    if (!this.start || !end || end.total === this.start.total) return undefined;
    return (end.busy - this.start.busy) / (end.total - this.start.total);
  }
}

function read(cpu: number): { busy: number; total: number } | undefined {
  try {
    return parseCoreTicks(readFileSync('/proc/stat', 'utf8'), cpu);
  } catch {
    return undefined;
  }
}
