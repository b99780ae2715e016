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

enableCompileCache();
await import(relayBundle() ?? './program.js');

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
  // `tsc -b` rewrites a workspace's build info whenever it emits, so a bundle older than any of these misses
  // a later build (`npm run build -w @parley/edge` alone): running it would run old relay code. Absent in the
  // images, which copy dist/ only and are built whole.
  for (const info of [
    '../tsconfig.tsbuildinfo',
    '../../edge/tsconfig.tsbuildinfo',
    '../../shared/tsconfig.tsbuildinfo',
  ]) {
    const builtAt = statSync(new URL(info, import.meta.url), { throwIfNoEntry: false })?.mtimeMs;
    if (builtAt !== undefined && builtAt > bundledAt) {
      process.stderr.write(
        'parley: cli/dist/relay-bundle.mjs is older than the last build, so the relay runs unbundled ' +
          '(slower start-up): `npm run build` brings it up to date\n',
      );
      return undefined;
    }
  }
  return bundle.href;
}
