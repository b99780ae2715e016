import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { it } from 'vitest';

/** First executable named name on PATH (or one of extra), else undefined. */
export function findExecutable(name: string, extra: string[] = []): string | undefined {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, name)), ...extra];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const platform = `${process.platform === 'win32' ? 'windows' : process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`;

/**
 * A local provider mirror holding hashicorp/aws 5.x (>= 5.100) for this
 * platform, in unpacked or packed layout. Searched where operators usually
 * put one; TF_PLUGIN_DIR wins.
 */
export function findAwsProviderMirror(): { dir: string; version: string } | undefined {
  const roots = [
    process.env.TF_PLUGIN_DIR,
    '/opt/tf-plugins',
    join(homedir(), '.terraform.d', 'plugins'),
    join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'terraform', 'plugins'),
    '/usr/local/share/terraform/plugins',
    '/usr/share/terraform/plugins',
  ].filter((d): d is string => Boolean(d));
  for (const root of roots) {
    const awsDir = join(root, 'registry.terraform.io', 'hashicorp', 'aws');
    if (!existsSync(awsDir)) continue;
    for (const entry of readdirSync(awsDir).sort().reverse()) {
      const packed = /^terraform-provider-aws_(\d+\.\d+\.\d+)_(.+)\.zip$/.exec(entry);
      const version = packed ? packed[1] : entry;
      const m = /^5\.(\d+)\.\d+$/.exec(version);
      if (!m || Number(m[1]) < 100) continue;
      if (packed ? packed[2] === platform : existsSync(join(awsDir, entry, platform)))
        return { dir: root, version };
    }
  }
  return undefined;
}

export interface RunResult {
  ok: boolean;
  code: number | string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command without a shell; never rejects. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as NodeJS.ErrnoException).code ?? null) : 0;
        resolve({ ok: !err, code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - started });
      },
    );
  });
}

/** Limits how many async jobs run at once. */
export function limiter(max: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (job) => {
    if (active >= max) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await job();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/**
 * Registers one passing test that states why a check did not run, so the
 * report never suggests it ran (and a missing tool never fails CI).
 */
export function notRun(what: string, reason: string): void {
  it(`${what} — not run here: ${reason}`, () => {
    console.warn(`[infra] ${what} not run: ${reason}`);
  });
}
