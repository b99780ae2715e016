'use strict';
// Loader for the TUN addon (build/Release/parley_tun.node, built by `npm run build:native`).
// Linux only; loadNativeTun() returns undefined when the addon is not built, cannot load, or
// PARLEY_NATIVE=0. Its one user is `parley sim`'s delay element, which then fails with the reason.
const { makeBindingLoader } = require('../load-binding.cjs');

const binding = makeBindingLoader(__dirname, 'parley_tun.node', {
  label: 'TUN addon',
  linuxOnly: 'the TUN addon is Linux-only (/dev/net/tun)',
});

/** `{ openTun(name) }`, or undefined when the addon is not available. */
function loadNativeTun() {
  return binding.load();
}

/** Why loadNativeTun() returned undefined. */
function nativeTunLoadError() {
  return binding.loadError();
}

exports.loadNativeTun = loadNativeTun;
exports.nativeTunLoadError = nativeTunLoadError;
