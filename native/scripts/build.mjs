#!/usr/bin/env node
// Compiles the addons from source with node-gyp: srtp and opus against the Debian -dev
// packages (libsrtp2-dev, libopus-dev), udp against nothing but libc and the libuv/Node-API
// headers that come with Node. Downloads nothing: node-gyp gets --nodedir pointing at
// the headers installed next to this Node (…/include/node), and node-gyp itself is the
// copy bundled with npm. Usage: node scripts/build.mjs [srtp|opus|udp ...] (default: all).
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
// --optional (what `npm run build` passes): a machine without the Debian -dev packages skips
// the addons with a warning, and Parley runs on its JavaScript/WebAssembly paths. CI sets
// PARLEY_REQUIRE_NATIVE=1, where a missing header is an error.
const optional = process.argv.includes('--optional') && process.env.PARLEY_REQUIRE_NATIVE !== '1';
const named = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const addons = named.length ? named : ['srtp', 'opus', 'udp', 'tun', 'evp'];
// Only addons with a -dev package dependency are listed: udp needs none, so a missing header
// never skips it.
const HEADERS = { srtp: '/usr/include/srtp2/srtp.h', opus: '/usr/include/opus/opus.h' };
// recvmmsg/sendmmsg: elsewhere the loader returns undefined and callers keep node:dgram.
const LINUX_ONLY = new Set(['udp', 'tun']);

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
  // The running Node's own headers first, then npm's nodedir (on this machine /usr, the system
  // Node's). The pinned `node` dev dependency ships only its binary, so under Node 24 the
  // addons usually compile against the system Node's headers: fine, because they use only
  // Node-API, whose ABI is stable across major versions (tested by loading them under 24).
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return process.env.npm_config_nodedir;
}

const gyp = findNodeGyp();
if (!gyp) {
  console.error("build:native: node-gyp not found (neither npm_config_node_gyp nor npm's bundled copy)");
  process.exit(optional ? 0 : 1);
}
const nodedir = findNodeDir();
if (!nodedir) {
  console.error(
    `build:native: no Node headers at ${dirname(dirname(process.execPath))}/include/node; set npm_config_nodedir (refusing to let node-gyp download them)`,
  );
  process.exit(optional ? 0 : 1);
}
// evp links nothing (OpenSSL's symbols come from the Node binary) but needs the OpenSSL headers
// that ship with Node's: without them it is skipped like a missing -dev package.
HEADERS.evp = join(nodedir, 'include', 'node', 'openssl', 'evp.h');
for (const addon of addons) {
  if (LINUX_ONLY.has(addon) && process.platform !== 'linux') {
    console.warn(`build:native: skipping ${addon}: Linux only (node:dgram is used instead)`);
    continue;
  }
  if (optional && HEADERS[addon] && !existsSync(HEADERS[addon])) {
    console.warn(
      `build:native: skipping ${addon}: ${HEADERS[addon]} is missing (${addon === 'evp' ? "Node's headers without OpenSSL's" : `apt-get install -y lib${addon === 'srtp' ? 'srtp2' : 'opus'}-dev`}); the JavaScript path is used instead`,
    );
    continue;
  }
  // node-gyp's progress is noise in every `npm run build`/`npm test`/`npm run bench`: keep its
  // output and show it only when the build fails.
  const r = spawnSync(
    process.execPath,
    [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory', join(here, addon)],
    { encoding: 'utf8' },
  );
  if (r.status === 0) console.log(`build:native: ${addon} built`);
  else {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    console.error(
      HEADERS[addon]
        ? `build:native: ${addon} failed (is the Debian -dev package installed? libsrtp2-dev / libopus-dev)`
        : `build:native: ${addon} failed (it needs only a C compiler and Node's headers)`,
    );
    process.exit(r.status ?? 1);
  }
}
