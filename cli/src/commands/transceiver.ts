import type { Command } from 'commander';
import { configOrExit, runService } from '../service-runner.js';

export function registerTransceiver(program: Command): void {
  program
    .command('transceiver')
    .description(
      'run a transceiver: every session on one UDP port (ICE-lite, DTLS, SRTP), behind relays, announced on NATS',
    )
    .option('--id <id>', 'transceiver id (PARLEY_TRANSCEIVER_ID)')
    .option('--address <ip>', 'private address to bind and announce (PARLEY_PRIVATE_ADDRESS)')
    .option(
      '--port <port>',
      'the one ICE UDP port every session shares, told apart by ufrag (PARLEY_ICE_PORT, default 20000)',
    )
    .option('--capacity <n>', 'most concurrent sessions (PARLEY_CAPACITY)')
    .option('--metrics-port <port>', 'Prometheus scrape port (PARLEY_METRICS_PORT, default 9466)')
    .addHelpText(
      'after',
      '\nEnvironment: NATS_URL, PARLEY_TOKEN_KEYS (required), PARLEY_CLUSTER, PARLEY_REGION, PARLEY_DEFAULT_AGENT,\n' +
        'PARLEY_MAX_SESSION_SECONDS, PARLEY_ICE_TIMEOUT_MS, PARLEY_CONSENT_TIMEOUT_MS, PARLEY_DRAIN_TIMEOUT_MS.\n' +
        'Agents (echo and rtp-echo always): PARLEY_AGENT_GRPC_URL enables grpc, PARLEY_REALTIME_URL (+ PARLEY_REALTIME_API_KEY)\n' +
        'enables realtime; PARLEY_AGENT_GRPC_SAMPLE_RATE, PARLEY_AGENT_GRPC_CODEC (pcm16|opus),\n' +
        'PARLEY_AGENT_CONNECT_TIMEOUT_MS.\n' +
        'SIGTERM drains: announces draining, waits for sessions up to PARLEY_DRAIN_TIMEOUT_MS, then exits.\n' +
        '\nExamples:\n' +
        '  PARLEY_TOKEN_KEYS=... parley transceiver --address 10.0.0.5 --port 20000\n' +
        '  PARLEY_TOKEN_KEYS=... PARLEY_AGENT_GRPC_URL=10.0.0.9:50051 PARLEY_DEFAULT_AGENT=grpc parley transceiver',
    )
    .action(
      async (o: {
        id?: string;
        address?: string;
        port?: string;
        capacity?: string;
        metricsPort?: string;
      }) => {
        const overrides = {
          PARLEY_TRANSCEIVER_ID: o.id,
          PARLEY_PRIVATE_ADDRESS: o.address,
          PARLEY_ICE_PORT: o.port,
          PARLEY_CAPACITY: o.capacity,
          PARLEY_METRICS_PORT: o.metricsPort,
        };
        const { loadTransceiverConfig } = await import('@parley/core/config.js');
        const config = configOrExit(() => loadTransceiverConfig(process.env, overrides));
        await runService('transceiver', config.PARLEY_METRICS_PORT, async () => {
          const { createLogger } = await import('@parley/shared/log.js');
          const { startTransceiver } = await import('@parley/core/transceiver-process.js');
          const tx = await startTransceiver(config, createLogger('transceiver', config.PARLEY_LOG_LEVEL));
          return {
            info: {
              id: tx.id,
              routeId: tx.routeId,
              address: config.PARLEY_PRIVATE_ADDRESS,
              port: config.PARLEY_ICE_PORT,
              // A silent fallback to a JS engine changes every capacity figure: benches record these.
              engines: tx.engines,
            },
            stop: () => tx.drain(),
          };
        });
      },
    );
}
