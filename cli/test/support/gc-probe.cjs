'use strict';
// Preloaded (NODE_OPTIONS=--require) into the stack's node processes by the
// leak check: on SIGUSR2 it runs a full GC and writes process.memoryUsage()
// to $PARLEY_GC_PROBE_DIR/<pid>.json. Heap after a full GC is what a leak
// grows; RSS alone also holds the heap V8 grew and keeps.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

const dir = process.env.PARLEY_GC_PROBE_DIR;
if (dir) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  process.on('SIGUSR2', () => {
    gc();
    const m = process.memoryUsage();
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ ...m, at: Date.now() }));
  });
}
