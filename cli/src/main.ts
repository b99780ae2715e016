#!/usr/bin/env node
// The entry point: turns on V8's compile cache before the CLI's modules are
// loaded (static imports would be loaded before any statement here ran), so
// a process reuses the bytecode an earlier one compiled instead of parsing
// every module again. A restarted relay forwards that much sooner: its
// module loading went from ~420 to ~330 ms on the 2-core dev VM (import
// timings, cache cold vs warm). The cache lives in NODE_COMPILE_CACHE, else
// the OS temp directory; a directory that cannot be written only turns it
// off (NODE_DISABLE_COMPILE_CACHE=1 does so on purpose).
import { statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { builtSince, relaySnapshotArgs } from '@parley/shared/lifecycle/relay-snapshot-args.js';
import { STARTED_AT_ENV } from './relay-startup.js';

const DIST = new URL('./', import.meta.url);

if (process.argv[2] === 'relay') execIntoSnapshot();
enableCompileCache();
await import(relayBundle() ?? './program.js');

/**
 * `parley relay` continues as `node --snapshot-blob cli/dist/relay.blob relay`
 * when the build made a blob this Node can run (relay-snapshot-args.ts): its
 * modules are evaluated already there, so even with this process's own
 * start paid first, a restarted relay listens ~55 ms sooner than from the
 * bundle (median, 2-core dev VM). process.execve() replaces this process
 * image, keeping its pid, stdio and parent: whoever started `parley relay`
 * (Kubernetes, systemd, a supervisor) sees no difference.
 *
 * Not when started by fork() (an IPC channel): Node opens the channel's
 * descriptor close-on-exec, so the new image would lose it. `parley dev` and
 * the benches start the snapshot directly instead.
 */
function execIntoSnapshot(): void {
  if (process.channel || typeof process.execve !== 'function') return;
  const args = relaySnapshotArgs(DIST, process.env, process.execArgv);
  if (!args) return;
  const [flag, blob] = args;
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...process.execArgv, flag as string, blob as string, ...process.argv.slice(2)],
      // The snapshot's start-up phases then count from this process's start (relay-snapshot.ts).
      { ...process.env, [STARTED_AT_ENV]: String(performance.timeOrigin) },
    );
  } catch (err) {
    // execve() returned: nothing was replaced, so the relay starts from the bundle as if there were no blob.
    process.stderr.write(`parley: could not start the relay from its snapshot (${(err as Error).message})\n`);
  }
}

/**
 * `parley relay` loads one pre-bundled file (scripts/bundle-relay.mjs) when
 * there is one: Node's module loader (resolving, reading package.json files,
 * compiling ~300 modules) was most of a restarted relay's start-up, and its
 * calls are silent until it forwards. Anything else, or PARLEY_CLI_BUNDLE=0,
 * or a bundle older than the last TypeScript build, loads the CLI unbundled.
 */
function relayBundle(): string | undefined {
  if (process.argv[2] !== 'relay' || process.env.PARLEY_CLI_BUNDLE === '0') return undefined;
  const bundle = new URL('./relay-bundle.mjs', import.meta.url);
  const bundledAt = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs;
  if (bundledAt === undefined) return undefined;
  if (builtSince(DIST, bundledAt)) {
    process.stderr.write(
      'parley: cli/dist/relay-bundle.mjs is older than the last build, so the relay runs unbundled ' +
        '(slower start-up): `npm run build` brings it up to date\n',
    );
    return undefined;
  }
  return bundle.href;
}
