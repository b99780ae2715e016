// Bundles `parley relay` (dist/relay-main.js, after tsc -b) into one file,
// dist/relay-bundle.mjs, which main.js loads for the relay command. A relay
// restarted after a crash forwards only once its modules are loaded, and
// loading ~300 of them (resolving paths, reading files and package.json,
// compiling) was most of its start-up; one file skips the resolving and the
// reads. esbuild because it is the repository's bundler already (the web
// client) and bundles Node's ESM and CommonJS alike in tens of ms.
//
// Kept out of the bundle, loaded from node_modules at run time:
// - @parley/native/*: CommonJS loaders of .node addons, found next to them;
// - telemetry (@parley/shared/telemetry/* and the OpenTelemetry SDK): loaded
//   after the relay forwards (service-runner.ts), in steps, never at start.
//   @opentelemetry/api is bundled: its globals are keyed by a Symbol.for, so
//   the SDK's copy and the bundle's see the same meter provider.
//
// Then the same code again as CommonJS (dist/relay-snapshot.cjs, from
// relay-snapshot.ts) and a V8 startup snapshot of it, dist/relay.blob: the
// relay's modules already evaluated (see relay-snapshot.ts). A Node that
// cannot build one leaves the relay on the bundle, with a warning.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const dist = (name) => new URL(`../dist/${name}`, import.meta.url).pathname;
const external = [
  '@parley/native/*',
  '@parley/shared/telemetry/*',
  '@opentelemetry/sdk-*',
  '@opentelemetry/exporter-*',
];

const result = await build({
  entryPoints: [dist('relay-main.js')],
  outfile: dist('relay-bundle.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  external,
  // Bundled CommonJS (commander, pino) calls require() for Node's built-ins, which ESM has not got.
  banner: {
    js: "import { createRequire as __parleyCreateRequire } from 'node:module'; const require = __parleyCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs).length;
process.stdout.write(`relay bundle: ${inputs} modules in dist/relay-bundle.mjs\n`);

// ---- the startup snapshot ------------------------------------------------

const requireHere = createRequire(import.meta.url);
// relay-snapshot.ts keeps its run-time require() here (after the blob is loaded).
const runtimeRequire = "globalThis[Symbol.for('parley.relaySnapshot.require')]";

/**
 * A module whose exports are getters that load `load` on first use: what the
 * snapshot cannot hold is not touched while it is built. The export names are
 * read here, at bundle time, since the snapshot's code must not load it.
 */
function lazyExports(load, names) {
  const get = names.map(
    (k) =>
      `Object.defineProperty(exports, ${JSON.stringify(k)}, { enumerable: true, get: () => load()[${JSON.stringify(k)}] });`,
  );
  return `let m;\nconst load = () => (m ??= ${load});\n${get.join('\n')}\n`;
}

const snapshotLazy = {
  name: 'snapshot-lazy',
  setup(b) {
    // Their bindings cannot be serialized (building the snapshot aborts); the relay needs them only once it
    // connects to NATS over TLS or serves metrics.
    b.onResolve({ filter: /^(node:)?(tls|https?|http2)$/ }, (a) => ({
      path: `node:${a.path.replace(/^node:/, '')}`,
      namespace: 'lazy-builtin',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => ({
      contents: lazyExports(
        `process.getBuiltinModule(${JSON.stringify(a.path)})`,
        Object.keys(requireHere(a.path)),
      ),
      loader: 'js',
    }));
    b.onResolve(
      { filter: /^(@parley\/native\/|@parley\/shared\/telemetry\/|@opentelemetry\/(sdk|exporter)-)/ },
      (a) => ({
        path: a.path,
        namespace: 'lazy-package',
      }),
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (a) => {
      const load = `${runtimeRequire}(${JSON.stringify(a.path)})`;
      // The addon loaders are imported statically (their names are known); telemetry only by import(),
      // which the bundle turns into a require() of this module when it runs.
      if (a.path.startsWith('@parley/native/')) {
        return { contents: lazyExports(load, Object.keys(requireHere(a.path))), loader: 'js' };
      }
      return { contents: `module.exports = ${load};\n`, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [dist('relay-snapshot.js')],
  outfile: dist('relay-snapshot.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  plugins: [snapshotLazy],
  logLevel: 'warning',
});

rmSync(dist('relay.blob'), { force: true });
rmSync(dist('relay.blob.json'), { force: true });
const snap = spawnSync(
  process.execPath,
  ['--snapshot-blob', dist('relay.blob'), '--build-snapshot', dist('relay-snapshot.cjs')],
  { encoding: 'utf8', timeout: 60_000 },
);
// Node warns about every built-in it has not yet verified in user snapshots (dgram, perf_hooks, ...);
// the relay's tests run it from the blob. Anything else is shown.
const noise =
  /not yet fully verified whether built-in module|may still work in some cases|To request support for the module|--trace-warnings/;
const said = `${snap.stdout}${snap.stderr}`
  .split('\n')
  .filter((l) => l.trim() && !noise.test(l))
  .join('\n');
if (snap.status === 0) {
  process.stdout.write(`relay snapshot: dist/relay.blob (Node ${process.version})\n`);
} else {
  rmSync(dist('relay.blob'), { force: true });
  rmSync(dist('relay.blob.json'), { force: true });
  process.stderr.write(
    `relay snapshot: not built (${snap.error?.message ?? `exit ${snap.status ?? snap.signal}`}); the relay starts from ` +
      `dist/relay-bundle.mjs\n${said.slice(0, 2000)}\n`,
  );
}
