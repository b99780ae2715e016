import type { Command } from 'commander';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('start the whole local stack: nats-server, a transceiver, a relay and a signaling edge')
    .option('--port <port>', 'edge HTTP port', '8080')
    .option('--relay-port <port>', 'relay UDP port', '3478')
    .option(
      '--ice-port <port>',
      'transceiver ICE UDP port (one for all sessions; the relay forwards there)',
      '20000',
    )
    .option('--agent <name>', 'default agent for sessions: echo, grpc or realtime', 'echo')
    .option(
      '--agent-url <url>',
      'model server for --agent grpc (host:port) or realtime (ws[s]://...); without it the reference server is started',
    )
    .option('--quiet', "do not show the services' logs")
    .addHelpText(
      'after',
      '\nnats-server is spawned from PATH unless NATS_URL is set. Everything binds 127.0.0.1.\n' +
        'Prints the edge URL and a dev token ("token: <jwt>"), then "ready". Ctrl-C stops everything.\n' +
        'Try it:  parley call http://127.0.0.1:8080 --token <jwt>\n' +
        'Agents: --agent grpc starts the reference model server (parley agent-server) unless --agent-url\n' +
        'points at yours; --agent realtime --agent-url wss://... talks to a Realtime-style endpoint with\n' +
        'PARLEY_REALTIME_API_KEY from the environment. echo and rtp-echo are always available per session (?agent=).',
    )
    .action(
      async (o: {
        port: string;
        relayPort: string;
        icePort: string;
        agent: string;
        agentUrl?: string;
        quiet?: boolean;
      }) => {
        const httpPort = Number(o.port);
        const relayPort = Number(o.relayPort);
        const icePort = Number(o.icePort);
        for (const [flag, v] of [
          ['--port', httpPort],
          ['--relay-port', relayPort],
          ['--ice-port', icePort],
        ] as const) {
          if (!Number.isInteger(v) || v < 1 || v > 65535) {
            process.stderr.write(`${flag} must be a port number\n`);
            process.exit(2);
          }
        }
        if (o.agent !== 'echo' && o.agent !== 'grpc' && o.agent !== 'realtime') {
          process.stderr.write('--agent must be echo, grpc or realtime\n');
          process.exit(2);
        }
        if (o.agentUrl && o.agent === 'echo') {
          process.stderr.write('--agent-url needs --agent grpc or realtime\n');
          process.exit(2);
        }
        if (o.agentUrl && o.agent === 'realtime' && !/^wss?:\/\/\S+$/.test(o.agentUrl)) {
          process.stderr.write('--agent-url for realtime must be a ws:// or wss:// URL\n');
          process.exit(2);
        }
        if (o.agentUrl && o.agent === 'grpc' && !/^(grpcs?:\/\/)?[^\s/]+:\d+$/.test(o.agentUrl)) {
          process.stderr.write('--agent-url for grpc must be host:port (or grpc[s]://host:port)\n');
          process.exit(2);
        }
        const { startDevStack } = await import('../dev-stack.js');
        process.stderr.write('starting nats-server, transceiver, relay, edge...\n');
        let stack: Awaited<ReturnType<typeof startDevStack>>;
        try {
          stack = await startDevStack({
            httpPort,
            relayPort,
            icePort,
            natsUrl: process.env.NATS_URL,
            agent: o.agent,
            agentUrl: o.agentUrl,
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
            `agent: ${stack.agent.name}${stack.agent.url ? ` at ${stack.agent.url}` : ''}${stack.info.agent ? ' (reference model server)' : ''}`,
            ...Object.entries(stack.info)
              .filter(([name]) => name !== 'agent')
              .map(([name, i]) => `${name} metrics: ${(i as { metrics?: string }).metrics ?? '-'}`),
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
      },
    );
}
