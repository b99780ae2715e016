import { type ChildProcess, fork, type StdioOptions, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { relaySnapshotArgs } from '@parley/shared/lifecycle/relay-snapshot-args.js';
import { pinToCpu } from './cpu-pin.js';

/**
 * Runs one production process (`parley transceiver|relay|edge`) from the
 * built CLI, the same way `parley dev` does, but with the bench's own
 * environment, an optional CPU pin and its pid exposed for /proc meters.
 * The bench drives the built system as a user would; it imports nothing
 * from the cli package (which depends on this one).
 */
const CLI_DIST = new URL('../../../../cli/dist/', import.meta.url);
export const CLI_MAIN = fileURLToPath(new URL('main.js', CLI_DIST));

export interface ServiceOptions {
  env: Record<string, string>;
  cpu?: number;
  /** Extra node flags, e.g. --cpu-prof for a profiling run. */
  execArgv?: string[];
  readyTimeoutMs?: number;
  /** Child log lines; kept (last 30) for error messages either way. */
  output?: (line: string) => void;
}

export interface RunningService {
  name: string;
  pid: number;
  pinned: boolean;
  /** What the service reported when ready (ids, metrics URL). */
  info: Record<string, unknown>;
  /** Resolves when the process exits, with its code. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startService(name: string, o: ServiceOptions): Promise<RunningService> {
  const env = { ...process.env, PARLEY_LOG_LEVEL: 'warn', ...o.env };
  // The relay from its startup snapshot when there is a usable one, as `parley dev` and the Kubernetes
  // manifest start it (main.js would execve() into it, but not with an IPC channel: see cli/src/main.ts).
  const snapshot = name === 'relay' ? relaySnapshotArgs(CLI_DIST, env, o.execArgv) : undefined;
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', 'ipc'];
  const child: ChildProcess = snapshot
    ? spawn(process.execPath, [...(o.execArgv ?? []), ...snapshot], { env, stdio })
    : fork(CLI_MAIN, [name], { env, stdio, execArgv: o.execArgv ?? [] });
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = `[${name}] ${buf.slice(0, i)}`;
        buf = buf.slice(i + 1);
        tail.push(line);
        if (tail.length > 30) tail.shift();
        o.output?.(line);
      }
    });
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const timeoutMs = o.readyTimeoutMs ?? 20_000;
  const ready = await Promise.race([
    new Promise<{ info: Record<string, unknown> }>((r) => child.once('message', r)),
    exited.then((code) => {
      throw new Error(`${name} exited with ${code} before it was ready:\n${tail.join('\n')}`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms`)), timeoutMs).unref(),
    ),
  ]).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  const pid = child.pid as number;
  const pinned = o.cpu !== undefined && pinToCpu(pid, o.cpu);
  return {
    name,
    pid,
    pinned,
    info: ready.info ?? {},
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}
