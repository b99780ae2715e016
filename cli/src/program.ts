// The CLI itself; main.ts loads it once the compile cache is on (or the
// relay's bundle, relay-main.ts, for `parley relay`).
// Keep this file's static imports light: service commands start OpenTelemetry
// before they import the services they run.
import { registerAgentServer } from './commands/agent-server.js';
import { registerCall } from './commands/call.js';
import { registerDev } from './commands/dev.js';
import { registerEdge } from './commands/edge.js';
import { registerKeys } from './commands/keys.js';
import { registerLoadtest } from './commands/loadtest.js';
import { registerRelay } from './commands/relay.js';
import { registerSim } from './commands/sim.js';
import { registerTransceiver } from './commands/transceiver.js';
import { createProgram, runProgram } from './program-base.js';

const program = createProgram();

registerDev(program);
registerEdge(program);
registerRelay(program);
registerTransceiver(program);
registerCall(program);
registerLoadtest(program);
registerKeys(program);
registerAgentServer(program);
registerSim(program);

await runProgram(program);
