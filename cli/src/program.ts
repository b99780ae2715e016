// The CLI itself; main.ts loads it once the compile cache is on.
// Keep this file's static imports light: service commands start OpenTelemetry
// before they import the services they run.
import { Command, CommanderError } from 'commander';
import { registerAgentServer } from './commands/agent-server.js';
import { registerCall } from './commands/call.js';
import { registerDev } from './commands/dev.js';
import { registerEdge } from './commands/edge.js';
import { registerKeys } from './commands/keys.js';
import { registerLoadtest } from './commands/loadtest.js';
import { registerRelay } from './commands/relay.js';
import { registerSim } from './commands/sim.js';
import { registerTransceiver } from './commands/transceiver.js';

const program = new Command()
  .name('parley')
  .description(
    'Parley: voice AI behind WebRTC. One-port UDP relays at the edge, one-port transceivers in the core.',
  )
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage and examples)')
  .enablePositionalOptions()
  // Set before the commands are added, so every subcommand inherits it: usage errors exit 2, not 1.
  .exitOverride();

registerDev(program);
registerEdge(program);
registerRelay(program);
registerTransceiver(program);
registerCall(program);
registerLoadtest(program);
registerKeys(program);
registerAgentServer(program);
registerSim(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed the message (and for --help/--version, the text itself).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  throw err;
}
