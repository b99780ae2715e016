import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LeanEvent } from './lean-event.js';

/**
 * werift as this repository runs it: its CommonJS build, with its `Event`
 * class replaced by LeanEvent (lean-event.ts: the same observable in a
 * fraction of the memory, ~45 KiB less heap per transceiver session).
 *
 * The CommonJS build because its modules construct events as
 * `new common_1.Event()`, reading the class off the exports object of
 * common/src/event.js through a getter each time, so replacing that export
 * before anything is built replaces every event werift makes. The ES module
 * build (what `import 'werift'` loads) bundles its own class into one file,
 * out of reach. Every runtime use of werift in the adapter goes through this
 * module, so one process never mixes the two builds (their classes differ:
 * a patch on one, or an instanceof, would miss the other).
 */
const requireHere = createRequire(import.meta.url);
// The package's "require" entry: lib/webrtc/src/index.js. common/src/event.js sits two folders up.
const entry = requireHere.resolve('werift');
const eventModule = requireHere(join(dirname(entry), '..', '..', 'common', 'src', 'event.js')) as {
  Event: unknown;
};
if (typeof eventModule.Event !== 'function') {
  // A werift whose layout changed: better to fail the start than to run without knowing which Event it uses.
  throw new Error(`werift-module: no Event class in ${join(dirname(entry), '../../common/src/event.js')}`);
}
eventModule.Event = LeanEvent;

export const werift = requireHere('werift') as typeof import('werift');
