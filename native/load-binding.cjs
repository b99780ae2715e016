'use strict';
// The lazy loader the three addon loaders (srtp/, opus/, udp/index.cjs) share: the first
// load() requires <dir>/build/Release/<fileName> once and remembers the binding or why it
// could not load (not built, a missing shared library, PARLEY_NATIVE=0, not Linux), so the
// callers can return undefined and keep their JavaScript/WebAssembly paths.
const path = require('node:path');

/**
 * @param {string} dir the addon's folder (its loader's __dirname)
 * @param {string} fileName e.g. 'parley_srtp.node'
 * @param {{ label?: string, linuxOnly?: string }} [options] label names the addon in need()'s
 *   error ('libsrtp2 addon'); linuxOnly, when set, is why it is Linux-only, and on other
 *   platforms the load error reads "<linuxOnly>; platform is <platform>".
 */
function makeBindingLoader(dir, fileName, options = {}) {
  let binding;
  let loadError;
  let tried = false;

  /** The binding, or undefined when it is not built / cannot load / is disabled. */
  function load() {
    if (tried) return binding;
    tried = true;
    if (process.env.PARLEY_NATIVE === '0') {
      loadError = new Error('disabled by PARLEY_NATIVE=0');
      return undefined;
    }
    if (options.linuxOnly !== undefined && process.platform !== 'linux') {
      loadError = new Error(`${options.linuxOnly}; platform is ${process.platform}`);
      return undefined;
    }
    try {
      binding = require(path.join(dir, 'build', 'Release', fileName));
    } catch (err) {
      loadError = err;
      binding = undefined;
    }
    return binding;
  }

  return {
    load,
    /** Why load() returned undefined (undefined when it loaded). */
    loadError() {
      load();
      return loadError;
    },
    /** The binding, or throws "<label> not available: <why>". */
    need() {
      const b = load();
      if (!b) throw new Error(`${options.label} not available: ${loadError?.message ?? 'not built'}`);
      return b;
    },
  };
}

exports.makeBindingLoader = makeBindingLoader;
