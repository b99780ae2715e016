import type { Command } from 'commander';
import { configOrExit, runService } from '../service-runner.js';

export function registerRelay(program: Command): void {
  program
    .command('relay')
    .description('run a relay: one public UDP port, flows routed by the signed token in the STUN ufrag')
    .option('--port <port>', 'public UDP port (PARLEY_RELAY_PORT, default 3478)')
    .option('--host <ip>', 'public bind address (PARLEY_RELAY_HOST, default 0.0.0.0)')
    .option('--upstream-host <ip>', 'local address toward transceivers (PARLEY_RELAY_UPSTREAM_HOST)')
    .option('--metrics-port <port>', 'Prometheus scrape port (PARLEY_METRICS_PORT, default 9465)')
    .addHelpText(
      'after',
      '\nEnvironment: NATS_URL, PARLEY_TOKEN_KEYS (required; the same keys as the transceivers),\n' +
        'PARLEY_RELAY_IDLE_TIMEOUT_MS (30000), PARLEY_RELAY_MAX_FLOWS (100000),\n' +
        'PARLEY_RELAY_NEW_FLOWS_PER_IP_PER_SECOND (200; 0 = no limit), PARLEY_RELAY_MAX_FLOWS_PER_TOKEN (8),\n' +
        'PARLEY_RELAY_MAX_FLOWS_PER_IP (512), PARLEY_RELAY_TCP_PORT (443: ICE-TCP for UDP-blocked clients; 0 = off),\n' +
        'PARLEY_RELAY_IO (auto: recvmmsg/sendmmsg when the native addon is built, else node:dgram),\n' +
        'PARLEY_RELAY_REUSE_PORT (0; 1 = share the port; handover = planned restarts: start a second relay with the\n' +
        'same settings, it takes the flows and the port over and the old one drains and exits, no packet lost).\n' +
        'Starts without NATS: until discovery is live it forwards to the transceiver address signed in the token.\n' +
        'No sessions, no media keys: restart it at any time; flows rebuild on the next STUN consent check.\n' +
        '\nExamples:\n' +
        '  PARLEY_TOKEN_KEYS=$(parley keygen) parley relay\n' +
        '  PARLEY_TOKEN_KEYS=... parley relay --host 203.0.113.7 --port 3478 --upstream-host 10.0.0.5',
    )
    .action(async (o: { port?: string; host?: string; upstreamHost?: string; metricsPort?: string }) => {
      const { loadRelayConfig } = await import('@parley/edge/relay/config.js');
      const config = configOrExit(() =>
        loadRelayConfig(process.env, {
          PARLEY_RELAY_PORT: o.port,
          PARLEY_RELAY_HOST: o.host,
          PARLEY_RELAY_UPSTREAM_HOST: o.upstreamHost,
          PARLEY_METRICS_PORT: o.metricsPort,
        }),
      );
      await runService('relay', config.PARLEY_METRICS_PORT, async () => {
        const { createLogger } = await import('@parley/shared/log.js');
        const { startRelayProcess } = await import('@parley/edge/relay/relay-process.js');
        const { registerRelayMetrics } = await import('@parley/edge/relay/relay-metrics.js');
        const p = await startRelayProcess(config, { log: createLogger('relay', config.PARLEY_LOG_LEVEL) });
        registerRelayMetrics(p.relay.counters, () => p.relay.flows);
        // PARLEY_RELAY_REUSE_PORT=handover: a successor took the port over and this relay drained; stop as on SIGTERM.
        void p.handedOver.then(() => process.kill(process.pid, 'SIGTERM'));
        const a = p.relay.address();
        return {
          info: {
            address: `${a.address}:${a.port}`,
            io: p.relay.io,
            ...(p.takenOver && { takenOver: p.takenOver }),
          },
          stop: () => p.close(),
        };
      });
    });
}
