import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * vitest globalSetup: fails the test run if any test left a process behind
 * (nats-server, chromium, a node child, anything it spawned).
 *
 * Setup marks the run: it puts PARLEY_TEST_RUN=<random id> in the
 * environment before vitest starts its workers, so every process a test
 * spawns inherits it (even one that outlives its parent and is re-parented
 * to init, which a parent/child walk would miss). Teardown, after the last
 * test file, lists live processes that carry the mark or descend from this
 * process, other than vitest's own workers, gives them a few seconds to
 * finish exiting, then kills what is left (it belongs to this run) and fails
 * naming each one: pid, command line, age.
 */
const MARK = 'PARLEY_TEST_RUN';
const GRACE_MS = 5_000;

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  startTicks: number;
  cmdline: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return {
      pid,
      state: rest[0] ?? '?',
      ppid: Number(rest[1]),
      startTicks: Number(rest[19]),
      cmdline: cmdline || stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    };
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

function listProcs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

function carriesMark(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(`${MARK}=${id}\0`);
  } catch {
    return false;
  }
}

/** vitest's own processes (pool workers, its watchdog): vitest ends them itself, after this teardown. */
function isVitestWorker(p: Proc): boolean {
  return /(^|[/\\])vitest([/\\-]|$)/.test(p.cmdline);
}

function uptimeTicks(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100;
}

/** Processes started by this run (marked, or descendants of this process) that are still alive. */
export function leftoverProcesses(id: string, before: ReadonlySet<number>, self = process.pid): Proc[] {
  const procs = listProcs();
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const descendants = new Set<number>();
  const stack = [self];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop() as number) ?? []) {
      if (!descendants.has(c)) {
        descendants.add(c);
        stack.push(c);
      }
    }
  }
  return procs.filter(
    (p) =>
      p.pid !== self &&
      p.state !== 'Z' &&
      !before.has(p.pid) &&
      !isVitestWorker(p) &&
      (descendants.has(p.pid) || carriesMark(p.pid, id)),
  );
}

export function setup(): (() => Promise<void>) | undefined {
  if (process.platform !== 'linux') return undefined;
  const id = randomUUID();
  process.env[MARK] = id;
  const before = new Set(listProcs().map((p) => p.pid));
  return async () => {
    const deadline = Date.now() + GRACE_MS;
    let left = leftoverProcesses(id, before);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      left = leftoverProcesses(id, before);
    }
    if (left.length === 0) return;
    const now = uptimeTicks();
    const lines = left.map(
      (p) =>
        `  pid ${p.pid} (parent ${p.ppid}, up ${((now - p.startTicks) / 100).toFixed(1)} s): ${p.cmdline}`,
    );
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    throw new Error(
      `the test run left ${left.length} process(es) behind (now killed); a test must stop what it starts:\n${lines.join('\n')}`,
    );
  };
}
