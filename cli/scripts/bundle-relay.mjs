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
import { build } from 'esbuild';

const result = await build({
  entryPoints: [new URL('../dist/relay-main.js', import.meta.url).pathname],
  outfile: new URL('../dist/relay-bundle.mjs', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  external: [
    '@parley/native/*',
    '@parley/shared/telemetry/*',
    '@opentelemetry/sdk-*',
    '@opentelemetry/exporter-*',
  ],
  // Bundled CommonJS (commander, pino) calls require() for Node's built-ins, which ESM has not got.
  banner: {
    js: "import { createRequire as __parleyCreateRequire } from 'node:module'; const require = __parleyCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs).length;
process.stdout.write(`relay bundle: ${inputs} modules in dist/relay-bundle.mjs\n`);
