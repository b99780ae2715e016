#!/usr/bin/env node
// Keep this file's static imports light: service commands start OpenTelemetry
// before they import the services they run.
import { Command } from 'commander';
import { registerAgentServer } from './commands/agent-server.js';
import { registerCall } from './commands/call.js';
import { registerDev } from './commands/dev.js';
import { registerEdge } from './commands/edge.js';
import { registerKeys } from './commands/keys.js';
import { registerLoadtest } from './commands/loadtest.js';
import { registerRelay } from './commands/relay.js';
import { registerTransceiver } from './commands/transceiver.js';

const program = new Command()
  .name('parley')
  .description(
    'Parley: voice AI behind WebRTC. One-port UDP relays at the edge, one-port transceivers in the core.',
  )
  .version('0.1.0')
  .showHelpAfterError()
  .enablePositionalOptions();

registerDev(program);
registerEdge(program);
registerRelay(program);
registerTransceiver(program);
registerCall(program);
registerLoadtest(program);
registerKeys(program);
registerAgentServer(program);

await program.parseAsync(process.argv);
