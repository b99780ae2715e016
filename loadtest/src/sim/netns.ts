import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class NetnsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetnsError';
  }
}

/** Runs `ip ...`; a failure names the command and what ip said. */
export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new NetnsError(`ip ${args.join(' ')}: ${(err.stderr || err.message).trim()}`, { cause: e });
  }
}

export async function sysctl(ns: string, key: string, value: string): Promise<void> {
  await ip('netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`);
}

/** Our namespaces are `ps<4 hex>-<suffix>`; nothing else is ever touched. */
export const NS_PATTERN = /^ps[0-9a-f]{4}-[a-z0-9]+$/;

export async function listOurNamespaces(): Promise<string[]> {
  const out = await ip('netns', 'list');
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => NS_PATTERN.test(n));
}

/** Kills what still runs in a namespace of ours, then deletes it. Never throws. */
export async function removeNamespace(ns: string): Promise<void> {
  if (!NS_PATTERN.test(ns)) return;
  try {
    const pids = (await ip('netns', 'pids', ns)).split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // the namespace may be gone already
  }
  await ip('netns', 'del', ns).catch(() => {});
  // The resolv.conf the simulation gave the namespace (see sim-stack.ts).
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

/**
 * Checks that this machine can build the simulation, and says why not:
 * root, network namespaces, /dev/net/tun.
 */
export async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new NetnsError('parley sim needs root (network namespaces, TUN, routes)');
  const probe = `ps${Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0')}-probe`;
  try {
    await ip('netns', 'add', probe);
  } catch (e) {
    throw new NetnsError(`cannot create a network namespace: ${(e as Error).message}`, { cause: e });
  } finally {
    await ip('netns', 'del', probe).catch(() => {});
  }
}
