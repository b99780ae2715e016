import type { Command } from 'commander';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('start the whole local stack: nats-server, a transceiver, a relay and a signaling edge')
    .option('--port <port>', 'edge HTTP port', '8080')
    .option('--relay-port <port>', 'relay UDP port', '3478')
    .option('--ice-ports <min-max>', 'transceiver ICE UDP port range', '20000-20999')
    .option('--quiet', "do not show the services' logs")
    .addHelpText(
      'after',
      '\nnats-server is spawned from PATH unless NATS_URL is set. Everything binds 127.0.0.1.\n' +
        'Prints the edge URL and a dev token ("token: <jwt>"), then "ready". Ctrl-C stops everything.\n' +
        'Try it:  parley call http://127.0.0.1:8080 --token <jwt>',
    )
    .action(async (o: { port: string; relayPort: string; icePorts: string; quiet?: boolean }) => {
      const httpPort = Number(o.port);
      const relayPort = Number(o.relayPort);
      const [min, max] = o.icePorts.split('-').map(Number);
      for (const [flag, v] of [
        ['--port', httpPort],
        ['--relay-port', relayPort],
        ['--ice-ports', min],
        ['--ice-ports', max],
      ] as const) {
        if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65534) {
          process.stderr.write(`${flag} must be a port number\n`);
          process.exit(2);
        }
      }
      const { startDevStack } = await import('../dev-stack.js');
      process.stderr.write('starting nats-server, transceiver, relay, edge...\n');
      let stack: Awaited<ReturnType<typeof startDevStack>>;
      try {
        stack = await startDevStack({
          httpPort,
          relayPort,
          icePorts: { min: min as number, max: max as number },
          natsUrl: process.env.NATS_URL,
          output: o.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
        });
      } catch (err) {
        process.stderr.write(`parley dev failed: ${(err as Error).message}\n`);
        process.exit(1);
      }
      process.stdout.write(
        [
          `edge: ${stack.edgeUrl}`,
          `page: ${stack.edgeUrl}/   (open it, press Talk, hear yourself through the echo agent)`,
          `relay: udp://${stack.relay.host}:${stack.relay.port}`,
          `nats: ${stack.natsUrl}`,
          ...Object.entries(stack.info).map(
            ([name, i]) => `${name} metrics: ${(i as { metrics?: string }).metrics ?? '-'}`,
          ),
          `token: ${stack.token}`,
          `try: npx parley call ${stack.edgeUrl} --token "$TOKEN"   (TOKEN is the value above)`,
          'ready',
          '',
        ].join('\n'),
      );
      let stopping = false;
      const stop = async (code: number) => {
        if (stopping) process.exit(1);
        stopping = true;
        process.stderr.write('stopping...\n');
        await stack.stop();
        process.exit(code);
      };
      process.on('SIGINT', () => void stop(0));
      process.on('SIGTERM', () => void stop(0));
      const crashed = await stack.crashed;
      process.stderr.write(`${crashed} exited unexpectedly; stopping the stack\n`);
      await stop(1);
    });
}
