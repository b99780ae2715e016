import type { Command } from 'commander';
import { runService } from '../service-runner.js';

export function registerAgentServer(program: Command): void {
  program
    .command('agent-server')
    .description(
      'run the reference voice model server: answers each user turn with a chime (for tests, demos and as a template)',
    )
    .option('--protocol <protocol>', 'grpc (parley.agent.v1) or realtime (Realtime-style WebSocket)', 'grpc')
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option(
      '--port <port>',
      'port to listen on (default 50051 for grpc, 8765 for realtime; 0 = any free port)',
    )
    .option('--reply-ms <ms>', 'length of each reply', '1200')
    .addHelpText(
      'after',
      '\nWith --protocol realtime, PARLEY_REALTIME_API_KEY (if set) is required from clients as a Bearer token.\n' +
        'Point a transceiver at it with PARLEY_AGENT_GRPC_URL=host:port or PARLEY_REALTIME_URL=ws://host:port/v1/realtime;\n' +
        '`parley dev --agent grpc` starts one for you.\n' +
        '\nExamples:\n' +
        '  parley agent-server                              # gRPC on 127.0.0.1:50051\n' +
        '  parley agent-server --protocol realtime --port 8765 --reply-ms 3000\n' +
        '  parley dev --agent grpc --agent-url 127.0.0.1:50051',
    )
    .action(async (o: { protocol: string; host: string; port?: string; replyMs: string }) => {
      if (o.protocol !== 'grpc' && o.protocol !== 'realtime') {
        process.stderr.write('--protocol must be grpc or realtime\n');
        process.exit(2);
      }
      const port = Number(o.port ?? (o.protocol === 'grpc' ? 50051 : 8765));
      const replyMs = Number(o.replyMs);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write('--port must be a port number\n');
        process.exit(2);
      }
      if (!Number.isFinite(replyMs) || replyMs < 100 || replyMs > 60_000) {
        process.stderr.write('--reply-ms must be between 100 and 60000\n');
        process.exit(2);
      }
      await runService('agent-server', undefined, async () => {
        const { createLogger } = await import('@parley/shared/log.js');
        const log = createLogger('agent-server', process.env.PARLEY_LOG_LEVEL ?? 'info');
        if (o.protocol === 'grpc') {
          const { startGrpcReferenceServer } = await import(
            '@parley/core/agent/reference/grpc-reference-server.js'
          );
          const srv = await startGrpcReferenceServer({ host: o.host, port, log, responder: { replyMs } });
          const host = o.host.includes(':') ? `[${o.host}]` : o.host;
          return { info: { protocol: 'grpc', url: `${host}:${srv.port}` }, stop: () => srv.close() };
        }
        const { startRealtimeReferenceServer } = await import(
          '@parley/core/agent/reference/realtime-reference-server.js'
        );
        const srv = await startRealtimeReferenceServer({
          host: o.host,
          port,
          apiKey: process.env.PARLEY_REALTIME_API_KEY,
          log,
          responder: { replyMs },
        });
        return { info: { protocol: 'realtime', url: srv.url }, stop: () => srv.close() };
      });
    });
}
