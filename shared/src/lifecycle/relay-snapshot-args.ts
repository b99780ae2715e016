import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * How to start `parley relay` from its V8 startup snapshot: the Node
 * arguments `--snapshot-blob <cli/dist/relay.blob> relay`, or undefined when
 * that blob cannot be used here, and the relay must start from main.js.
 *
 * The blob (built by cli/scripts/bundle-relay.mjs; see cli/src/relay-snapshot.ts)
 * holds the relay's modules already evaluated: a restarted relay listens
 * ~95 ms sooner than from its one-file bundle (median, 2-core dev VM). Used
 * by main.js (it execve()s into the blob), `parley dev` and the benches (they
 * start it directly, as the Kubernetes manifest does), so all start it alike.
 *
 * Not used when: `env` turns it off (PARLEY_CLI_SNAPSHOT=0, or
 * PARLEY_CLI_BUNDLE=0, which means "the plain modules"); a module is
 * preloaded (an APM agent's `--require` or `--import`, see hasPreload); there is no blob; a
 * Node other than the one that built it runs (it would refuse the blob and
 * exit); or a workspace the relay is made of was built after it (it would run
 * old code: `npm run build -w @parley/edge` alone).
 */
export function relaySnapshotArgs(
  cliDist: URL,
  env: Record<string, string | undefined> = process.env,
  /** The Node options the relay would be started with besides NODE_OPTIONS. */
  execArgv: readonly string[] = [],
): string[] | undefined {
  if (env.PARLEY_CLI_SNAPSHOT === '0' || env.PARLEY_CLI_BUNDLE === '0') return undefined;
  if (hasPreload([...(env.NODE_OPTIONS ?? '').split(/\s+/), ...execArgv])) return undefined;
  const blob = new URL('relay.blob', cliDist);
  const builtAt = statSync(blob, { throwIfNoEntry: false })?.mtimeMs;
  if (builtAt === undefined || builtSince(cliDist, builtAt)) return undefined;
  let stamp: { node?: string; arch?: string; platform?: string };
  try {
    stamp = JSON.parse(readFileSync(new URL('relay.blob.json', cliDist), 'utf8'));
  } catch {
    return undefined;
  }
  if (stamp.node !== process.version || stamp.arch !== process.arch || stamp.platform !== process.platform) {
    return undefined;
  }
  return ['--snapshot-blob', fileURLToPath(blob), 'relay'];
}

/**
 * Whether a workspace the relay is made of (cli, edge, shared) was built after
 * `mtimeMs`, by its TypeScript build info, which `tsc -b` rewrites whenever it
 * emits. Absent in the images, which copy dist/ only and are built whole.
 */
export function builtSince(cliDist: URL, mtimeMs: number): boolean {
  for (const info of [
    '../tsconfig.tsbuildinfo',
    '../../edge/tsconfig.tsbuildinfo',
    '../../shared/tsconfig.tsbuildinfo',
  ]) {
    const builtAt = statSync(new URL(info, cliDist), { throwIfNoEntry: false })?.mtimeMs;
    if (builtAt !== undefined && builtAt > mtimeMs) return true;
  }
  return false;
}

/**
 * Whether Node options preload a module. Node 24 with a user snapshot
 * ignores `--import` silently, and a `--require`d module that loads node:v8
 * aborted the relay once it ran (`shutdown_wrap_template_.IsEmpty()`
 * assertion: stream bindings set up twice). Such a relay starts from its
 * bundle instead, with its preloads.
 */
export function hasPreload(options: readonly string[]): boolean {
  return options.some((o) => /^(-r|--require|--import|--loader|--experimental-loader)(=|$)/.test(o));
}
