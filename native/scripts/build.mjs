#!/usr/bin/env node
// Compiles both addons from source with node-gyp against the Debian -dev packages
// (libsrtp2-dev, libopus-dev). Downloads nothing: node-gyp gets --nodedir pointing at
// the headers installed next to this Node (…/include/node), and node-gyp itself is the
// copy bundled with npm. Usage: node scripts/build.mjs [srtp|opus ...] (default: both).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const addons = process.argv.slice(2).length ? process.argv.slice(2) : ['srtp', 'opus'];

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp, // set by `npm run` to npm's bundled node-gyp
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0)
    candidates.push(join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((p) => p && existsSync(p));
}

function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const gyp = findNodeGyp();
if (!gyp) {
  console.error("build:native: node-gyp not found (neither npm_config_node_gyp nor npm's bundled copy)");
  process.exit(1);
}
const nodedir = findNodeDir();
if (!nodedir) {
  console.error(
    `build:native: no Node headers at ${dirname(dirname(process.execPath))}/include/node; set npm_config_nodedir (refusing to let node-gyp download them)`,
  );
  process.exit(1);
}
for (const addon of addons) {
  const r = spawnSync(
    process.execPath,
    [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory', join(here, addon)],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) {
    console.error(
      `build:native: ${addon} failed (is the Debian -dev package installed? libsrtp2-dev / libopus-dev)`,
    );
    process.exit(r.status ?? 1);
  }
}
