import { readdirSync, readFileSync } from 'node:fs';

/** One row of /proc: pid, parent pid, state letter (R, S, Z, T...) and command name. */
export interface ProcRow {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

function readRow(pid: number): ProcRow | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces; the fields after the last ')' are fixed.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state = '?', ppid = '0'] = stat.slice(close + 2).split(' ');
    return { pid, ppid: Number(ppid), state, comm };
  } catch {
    return undefined;
  }
}

/** The process table, read from /proc (Linux). */
export function processTable(): ProcRow[] {
  const rows: ProcRow[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const row = readRow(Number(name));
    if (row) rows.push(row);
  }
  return rows;
}

/** Whether the pid is a process that still runs (a zombie has exited: it only waits to be reaped). */
export function isRunning(pid: number): boolean {
  const row = readRow(pid);
  return row !== undefined && row.state !== 'Z' && row.state !== 'X';
}

/** Every descendant of `pid` now (children, their children...), without `pid` itself. */
export function descendantsOf(pid: number): ProcRow[] {
  const rows = processTable();
  const out: ProcRow[] = [];
  const parents = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of rows) {
      if (parents.has(r.ppid) && !parents.has(r.pid)) {
        parents.add(r.pid);
        out.push(r);
        grew = true;
      }
    }
  }
  return out;
}

/** Polls until none of the pids runs; returns the ones still running at the deadline. */
export async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(isRunning);
    if (left.length === 0 || performance.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
}
