import { type ChildProcess, fork } from 'node:child_process';
import { pinToCpu } from './cpu-pin.js';

/**
 * Request/response over a child's IPC channel: load generators and sinks run
 * in their own processes (pinned to their own cores) and the bench drives
 * them with calls like `run {rate, durationMs}`.
 */
interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type Handlers = Record<string, (args: never) => unknown>;

/** In the child: answers the parent's calls until it disconnects, then exits. */
export function serveRpc(handlers: Handlers): void {
  if (!process.send) throw new Error('a bench worker must be started with an IPC channel');
  process.on('message', async (m: Request) => {
    const handler = handlers[m.cmd] as ((args: unknown) => unknown) | undefined;
    let reply: Reply;
    try {
      if (!handler) throw new Error(`unknown command ${m.cmd}`);
      reply = { id: m.id, ok: true, result: await handler(m.args) };
    } catch (e) {
      reply = { id: m.id, ok: false, error: (e as Error).message };
    }
    process.send?.(reply);
  });
  process.on('disconnect', () => process.exit(0));
}

export interface Worker {
  pid: number;
  call<T>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** Forks a worker script (a built .js file) and pins it to `cpu` when given. */
export async function startWorker(script: URL, opts: { cpu?: number; name: string }): Promise<Worker> {
  const child: ChildProcess = fork(script, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  if (opts.cpu !== undefined) pinToCpu(child.pid as number, opts.cpu);
  let seq = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`${opts.name}: ${m.error}`));
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${opts.name} exited with ${code}`));
    pending.clear();
  });
  return {
    pid: child.pid as number,
    call<T>(cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${opts.name}: ${cmd} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, cmd, args } satisfies Request);
      });
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      });
    },
  };
}
