'use strict';
// Loader for the OpenSSL EVP addon (build/Release/parley_evp.node, built by `npm run build:native`):
// per-key AES-GCM and AES-CTR+HMAC-SHA1 contexts for the JavaScript SrtpSession
// (shared/src/srtp/evp-transforms.ts). It links no library: OpenSSL's symbols come from the
// Node binary. loadEvp() returns undefined when it is not built, cannot load, or PARLEY_NATIVE=0,
// so callers keep node:crypto.
const { makeBindingLoader } = require('../load-binding.cjs');

const binding = makeBindingLoader(__dirname, 'parley_evp.node', { label: 'OpenSSL EVP addon' });

/** The addon's functions, or undefined when it is not built / cannot load / is disabled. */
function loadEvp() {
  return binding.load();
}

/** Why loadEvp() returned undefined (for a startup log line). */
function evpLoadError() {
  return binding.loadError();
}

exports.loadEvp = loadEvp;
exports.evpLoadError = evpLoadError;
