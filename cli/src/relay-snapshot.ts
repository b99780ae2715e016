// `parley relay` from a V8 startup snapshot (cli/dist/relay.blob): the entry
// that scripts/bundle-relay.mjs bundles (CommonJS: the snapshot builder runs
// scripts, not ES modules) and runs under `node --build-snapshot`. Its
// top level runs once, at build time, and evaluates every module the relay
// needs; the blob stores the resulting heap, and a relay started from it
// (`node --snapshot-blob cli/dist/relay.blob relay`, or main.js, which
// execve()s into it) begins with them evaluated. On the 2-core dev VM that
// took spawn-to-listening from ~210 to ~120 ms (median of 12, other load on
// the machine), and a restarted relay's calls are silent until it listens.
//
// What cannot be in a snapshot is loaded when first used, at run time
// (scripts/bundle-relay.mjs turns these imports into getters): the native
// addons (.node files hold process state), node:tls and node:http (their
// bindings are not serializable: the build aborts), and the telemetry that
// the relay loads after it forwards anyway.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startupSnapshot } from 'node:v8';
import * as relayConfig from '@parley/edge/relay/config.js';
import * as relayMetrics from '@parley/edge/relay/relay-metrics.js';
import * as relayProcess from '@parley/edge/relay/relay-process.js';
import * as log from '@parley/shared/log.js';
import { reseedNatsIds } from '@parley/shared/nats/connect.js';
import { registerRelay } from './commands/relay.js';
import { createProgram, runProgram } from './program-base.js';
import { relayStartup, STARTED_AT_ENV } from './relay-startup.js';

/** Where the run-time require() of the lazily loaded modules is kept (scripts/bundle-relay.mjs reads it). */
const RUNTIME_REQUIRE = Symbol.for('parley.relaySnapshot.require');

/** The blob this process was built into or started from: `--snapshot-blob <path>` in its Node options. */
function blobPath(): string {
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--snapshot-blob' && args[i + 1] !== undefined) return args[i + 1] as string;
    if (a.startsWith('--snapshot-blob=')) return a.slice('--snapshot-blob='.length);
  }
  throw new Error('parley relay snapshot: no --snapshot-blob in the Node options');
}

// The relay's modules are imported by commands/relay.ts when its action runs; naming them here makes the
// bundle evaluate them now, while the snapshot is built. (Held on a global: this script has no exports.)
(globalThis as Record<symbol, unknown>)[Symbol.for('parley.relaySnapshot.modules')] = [
  relayConfig,
  relayProcess,
  relayMetrics,
  log,
];

// Work every start would repeat, done once here so the blob keeps its result: zod compiles a schema's
// parser on its first parse (the relay's config): with it done here, a start joined NATS ~12 ms sooner
// (median of 10, spawn to flow cache open 142 against 154 ms). A fixed, dummy key:
// nothing of this config is kept. isIP warms node:net's address check the same way.
relayConfig.loadRelayConfig({ PARLEY_TOKEN_KEYS: `1:${Buffer.alloc(32).toString('base64')}` });
isIP('127.0.0.1');
isIP('::1');

// Which Node built the blob, beside it: a blob only starts on the exact Node that built it (anything else
// refuses it and exits), so main.ts execs into it only when this matches its own Node.
writeFileSync(
  `${blobPath()}.json`,
  `${JSON.stringify({ node: process.version, arch: process.arch, platform: process.platform })}\n`,
);

startupSnapshot.setDeserializeMainFunction(() => {
  const startedAt = Number(process.env[STARTED_AT_ENV]);
  delete process.env[STARTED_AT_ENV];
  relayStartup.loadedFrom = 'snapshot';
  if (startedAt > 0) relayStartup.execOffsetMs = Math.max(0, performance.timeOrigin - startedAt);
  // nats.js drew its inbox prefix when its module was evaluated, at build time: one per process instead.
  reseedNatsIds();
  // Absolute: the image starts it as `--snapshot-blob cli/dist/relay.blob` from /app.
  const dist = resolve(dirname(blobPath()));
  (globalThis as Record<symbol, unknown>)[RUNTIME_REQUIRE] = createRequire(join(dist, 'relay-snapshot.cjs'));
  // Started as `node --snapshot-blob <blob> relay ...`, argv has no script; commander expects one.
  process.argv.splice(1, 0, join(dist, 'main.js'));
  const program = createProgram();
  registerRelay(program);
  // As an entry's top-level await would: a failure is an uncaught exception (exit 1, stack on stderr).
  runProgram(program).catch((err: unknown) => {
    setImmediate(() => {
      throw err;
    });
  });
});
