import type { Command } from 'commander';
import { ipAddress, oneOf, portNumber } from './flag-parsers.js';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('start the whole local stack: nats-server, a transceiver, a relay and a signaling edge')
    .option('--port <port>', 'edge HTTP port', portNumber, 8080)
    .option('--relay-port <port>', 'relay UDP port', portNumber, 3478)
    .option(
      '--ice-port <port>',
      'transceiver ICE UDP port (one for all sessions; the relay forwards there)',
      portNumber,
      20000,
    )
    .option(
      '--agent <name>',
      'default agent for sessions: echo, grpc or realtime',
      oneOf('echo', 'grpc', 'realtime'),
      'echo',
    )
    .option(
      '--agent-url <url>',
      'model server for --agent grpc (host:port) or realtime (ws[s]://...); without it the reference server is started',
    )
    .option(
      '--bind <ip>',
      "listen address of the edge's HTTP and the relay's UDP port (0.0.0.0 for a remote dev box)",
      ipAddress,
      '127.0.0.1',
    )
    .option(
      '--advertise <ip>',
      'the relay address browsers send media to (default: --bind; required when --bind is 0.0.0.0)',
      ipAddress,
    )
    .option('--quiet', "do not show the services' logs")
    .option('--json-logs', "show the services' logs as raw JSON lines instead of pretty text")
    .addHelpText(
      'after',
      '\nnats-server is spawned from PATH unless NATS_URL is set. Everything binds 127.0.0.1 unless --bind.\n' +
        'Prints the edge and page URLs, a dev token ("token: <jwt>"), the line that exports the edge\'s JWT\n' +
        'secret for `parley token`, then "ready". Ctrl-C stops everything.\n' +
        'The JWT secret is random per run unless PARLEY_AUTH_JWT_SECRET is set (then tokens survive a restart).\n' +
        '`parley call` and `parley loadtest` fetch a token from this edge by themselves (GET /dev/token, loopback only).\n' +
        'Agents: --agent grpc starts the reference model server (parley agent-server) unless --agent-url\n' +
        'points at yours; --agent realtime --agent-url wss://... talks to a Realtime-style endpoint with\n' +
        'PARLEY_REALTIME_API_KEY from the environment. echo and rtp-echo are always available per session (?agent=).\n' +
        'Remote dev box: --bind 0.0.0.0 --advertise <its public IP> (UDP --relay-port must be reachable), then\n' +
        'open the page through an SSH tunnel (ssh -L 8080:127.0.0.1:8080 box; browsers allow the microphone\n' +
        'only on https or localhost) with the printed ?token= URL.\n' +
        '\nExamples:\n' +
        '  parley dev\n' +
        '  parley dev --agent grpc                  # answers each turn with a chime\n' +
        '  PARLEY_AUTH_JWT_SECRET=$(openssl rand -base64 32) parley dev --port 9000\n' +
        '  parley dev --bind 0.0.0.0 --advertise 203.0.113.7\n' +
        '  npm start -- --agent grpc                # the same through npm (builds first)',
    )
    .action(
      async (o: {
        port: number;
        relayPort: number;
        icePort: number;
        agent: 'echo' | 'grpc' | 'realtime';
        agentUrl?: string;
        bind: string;
        advertise?: string;
        quiet?: boolean;
        jsonLogs?: boolean;
      }) => {
        const httpPort = o.port;
        const relayPort = o.relayPort;
        const icePort = o.icePort;
        if ((o.bind === '0.0.0.0' || o.bind === '::') && !o.advertise) {
          process.stderr.write(
            `--bind ${o.bind} needs --advertise <ip>: the address browsers can reach the relay at\n`,
          );
          process.exit(2);
        }
        const jwtSecret = process.env.PARLEY_AUTH_JWT_SECRET || undefined;
        if (jwtSecret !== undefined && jwtSecret.length < 32) {
          process.stderr.write('PARLEY_AUTH_JWT_SECRET must be at least 32 characters\n');
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
        const { devLogFormatter } = await import('./dev-log-format.js');
        const format = o.jsonLogs ? (line: string) => line : devLogFormatter({ color: process.stderr.isTTY });
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
            // The production default (100000) is above the ephemeral port range and warns at every start.
            env: { PARLEY_RELAY_MAX_FLOWS: process.env.PARLEY_RELAY_MAX_FLOWS ?? '10000' },
            bind: o.bind,
            ...(o.advertise && { advertise: o.advertise }),
            ...(jwtSecret && { jwtSecret }),
            output: o.quiet ? undefined : (line) => process.stderr.write(format(line)),
          });
        } catch (err) {
          process.stderr.write(`parley dev failed: ${(err as Error).message}\n`);
          process.exit(1);
        }
        const loopback = isLoopbackBind(o.bind);
        const pageUrl = loopback ? `${stack.edgeUrl}/` : `${stack.edgeUrl}/?token=${stack.token}`;
        const hear =
          o.agent === 'echo' ? 'hear yourself through the echo agent' : 'speak, pause, and the agent answers';
        process.stdout.write(
          [
            `edge: ${stack.edgeUrl}`,
            `page: ${pageUrl}   (open it, press Talk, ${hear})`,
            `relay: udp://${stack.relay.host}:${stack.relay.port}`,
            `nats: ${stack.natsUrl}`,
            `agent: ${stack.agent.name}${stack.agent.url ? ` at ${stack.agent.url}` : ''}${stack.info.agent ? ' (reference model server)' : ''}`,
            ...Object.entries(stack.info)
              .filter(([name]) => name !== 'agent')
              .map(([name, i]) => `${name} metrics: ${(i as { metrics?: string }).metrics ?? '-'}`),
            `token: ${stack.token}`,
            `secret: export PARLEY_AUTH_JWT_SECRET=${stack.jwtSecret}   (then \`npx parley token\` mints for this edge)`,
            loopback
              ? `try: npx parley call ${stack.edgeUrl}   (fetches its token from this edge)`
              : `try: npx parley call ${stack.edgeUrl} --token <token above>`,
            'ready',
            '',
          ].join('\n'),
        );
        let stopping = false;
        const stop = async (code: number) => {
          if (stopping) {
            // A second signal (or a crash while stopping): out at once, and no child left behind.
            stack.killNow();
            process.exit(1);
          }
          stopping = true;
          // A terminal's Ctrl-C echoes "^C" mid-line; start the goodbye on a line of its own.
          process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}stopping...\n`);
          await stack.stop();
          process.stderr.write('stopped\n');
          process.exit(code);
        };
        process.on('SIGINT', () => void stop(0));
        process.on('SIGTERM', () => void stop(0));
        // A closed terminal: NATS is in its own process group, so only this handler stops it.
        process.on('SIGHUP', () => void stop(0));
        const crashed = await stack.crashed;
        process.stderr.write(`${crashed} exited unexpectedly; stopping the stack\n`);
        await stop(1);
      },
    );
}

function isLoopbackBind(ip: string): boolean {
  return ip === '::1' || /^127(?:\.\d{1,3}){3}$/.test(ip);
}
