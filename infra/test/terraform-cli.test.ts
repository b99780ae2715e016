// terraform fmt / init + validate / test, run for real when terraform and a
// local provider mirror are present; otherwise each check says why it did
// not run. Works on a temp copy so no .terraform or lock file lands in the tree.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rel, terraformConfigDirs, terraformDir } from './lib/paths.js';
import { findAwsProviderMirror, findExecutable, limiter, notRun, type RunResult, run } from './lib/tools.js';

const terraform = findExecutable('terraform', ['/usr/local/bin/terraform', '/usr/bin/terraform']);
// Validation is CPU-heavy (the AWS provider loads a large schema per command):
// run it at low priority so timing-sensitive tests elsewhere in the suite are
// not starved.
const nice = findExecutable('nice', ['/usr/bin/nice']);
const mirror = findAwsProviderMirror();
const { modules, examples } = terraformConfigDirs();
const configs = [...modules, ...examples];
const hasTests = (d: string) =>
  existsSync(join(d, 'tests')) && readdirSync(join(d, 'tests')).some((n) => n.endsWith('.tftest.hcl'));

const show = (r: RunResult) => `exit ${r.code} after ${r.ms} ms\n${r.stdout}\n${r.stderr}`;

/** Environment that keeps terraform offline and away from the user's config. */
function offlineEnv(cliConfig: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig, // empty: no credentials, no network mirrors
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    ...extra,
  };
  for (const k of Object.keys(env)) if (k === 'TF_DATA_DIR' || k.startsWith('TF_CLI_ARGS')) delete env[k];
  return env;
}

if (!terraform) {
  notRun('terraform fmt -check -recursive', 'terraform is not on PATH');
} else {
  describe('terraform fmt', () => {
    it('finds nothing to rewrite under infra/terraform', async () => {
      const scratch = mkdtempSync(join(tmpdir(), 'parley-tf-fmt-'));
      try {
        writeFileSync(join(scratch, 'cli.tfrc'), '');
        const r = await run(terraform, ['fmt', '-check', '-recursive', '-no-color', terraformDir], {
          env: offlineEnv(join(scratch, 'cli.tfrc')),
        });
        expect(r.ok, `files needing terraform fmt:\n${show(r)}`).toBe(true);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  });
}

if (!terraform) {
  notRun('terraform init + validate + test', 'terraform is not on PATH');
} else if (!mirror) {
  notRun(
    'terraform init + validate + test',
    'no local provider mirror with hashicorp/aws >= 5.100 for this platform (looked in TF_PLUGIN_DIR, /opt/tf-plugins, ~/.terraform.d/plugins, ~/.local/share/terraform/plugins, /usr/local/share/terraform/plugins, /usr/share/terraform/plugins); nothing is downloaded',
  );
} else {
  describe(`terraform with the local aws ${mirror.version} mirror`, () => {
    const work = mkdtempSync(join(tmpdir(), 'parley-tf-'));
    const copy = join(work, 'terraform');
    const cliConfig = join(work, 'cli.tfrc');
    const env = offlineEnv(cliConfig, { TF_PLUGIN_CACHE_DIR: join(work, 'plugin-cache') });
    const limit = limiter(Math.max(2, Math.min(4, availableParallelism())));
    const inCopy = (dir: string) => join(copy, relative(terraformDir, dir));
    const inits = new Map<string, Promise<RunResult>>();
    const tf = (dir: string, args: string[]) =>
      limit(() =>
        nice
          ? run(nice, ['-n', '10', terraform, ...args, '-no-color'], { cwd: inCopy(dir), env })
          : run(terraform, [...args, '-no-color'], { cwd: inCopy(dir), env }),
      );
    // Inits run one at a time: concurrent inits sharing the plugin cache race on
    // creating its directories ("failed to create directory"), seen in CI runs.
    const initOneAtATime = limiter(1);
    const init = (dir: string) => {
      if (!inits.has(dir))
        inits.set(
          dir,
          initOneAtATime(() =>
            tf(dir, ['init', '-backend=false', '-input=false', `-plugin-dir=${mirror.dir}`]),
          ),
        );
      return inits.get(dir) as Promise<RunResult>;
    };

    beforeAll(async () => {
      cpSync(terraformDir, copy, {
        recursive: true,
        filter: (src) => !/(^|\/)\.terraform(\/|$)|\.terraform\.lock\.hcl$|\.tfstate/.test(src),
      });
      writeFileSync(cliConfig, '');
      // Fill the plugin cache once, serially: later inits only link to it
      // (the cache is not safe for concurrent first writes).
      const first = await init(join(terraformDir, 'modules', 'network'));
      expect(first.ok, show(first)).toBe(true);
    }, 300_000);

    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it.concurrent.each(configs.map((d) => [rel(d), d]))(
      'init + validate %s',
      async (_name, dir) => {
        const i = await init(dir);
        expect(i.ok, show(i)).toBe(true);
        const v = await tf(dir, ['validate']);
        expect(v.ok, show(v)).toBe(true);
        expect(v.stdout).toContain('The configuration is valid');
      },
      300_000,
    );

    it.concurrent.each(configs.filter(hasTests).map((d) => [rel(d), d]))(
      'terraform test (mock_provider) %s',
      async (_name, dir) => {
        const i = await init(dir);
        expect(i.ok, show(i)).toBe(true);
        const t = await tf(dir, ['test']);
        expect(t.ok, show(t)).toBe(true);
        expect(t.stdout).toMatch(/Success! \d+ passed, 0 failed/);
        console.info(
          `[infra] terraform test ${rel(dir)}: ${/(\d+) passed/.exec(t.stdout)?.[1]} runs in ${t.ms} ms`,
        );
      },
      300_000,
    );
  });
}

it('leaves no .terraform directory or lock file in the source tree', () => {
  const found: string[] = [];
  const scan = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (n === '.terraform' || n === '.terraform.lock.hcl' || n.endsWith('.tfstate')) found.push(rel(p));
      else if (statSync(p).isDirectory()) scan(p);
    }
  };
  scan(terraformDir);
  expect(found).toEqual([]);
  expect(basename(terraformDir)).toBe('terraform');
});
