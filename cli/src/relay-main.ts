// `parley relay` alone: the entry of cli/dist/relay-bundle.mjs (built by
// scripts/bundle-relay.mjs), which main.ts loads instead of program.ts for
// the relay. Only the relay command is registered; its help, options and exit
// codes are the full CLI's (program-base.ts).
import { registerRelay } from './commands/relay.js';
import { createProgram, runProgram } from './program-base.js';
import { relayStartup } from './relay-startup.js';

relayStartup.loadedFrom = 'bundle';
const program = createProgram();
registerRelay(program);
await runProgram(program);
