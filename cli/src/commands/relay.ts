import { performance } from 'node:perf_hooks';
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
      const phases: StartupPhases = {
        bootstrap: performance.nodeTiming.bootstrapComplete,
        cli: performance.now(),
      };
      const { loadRelayConfig } = await import('@parley/edge/relay/config.js');
      const config = configOrExit(() =>
        loadRelayConfig(process.env, {
          PARLEY_RELAY_PORT: o.port,
          PARLEY_RELAY_HOST: o.host,
          PARLEY_RELAY_UPSTREAM_HOST: o.upstreamHost,
          PARLEY_METRICS_PORT: o.metricsPort,
        }),
      );
      phases.config = performance.now();
      const run = async () => {
        phases.telemetry = performance.now();
        const { createLogger } = await import('@parley/shared/log.js');
        const { startRelayProcess } = await import('@parley/edge/relay/relay-process.js');
        const { registerRelayMetrics } = await import('@parley/edge/relay/relay-metrics.js');
        phases.modules = performance.now();
        const log = createLogger('relay', config.PARLEY_LOG_LEVEL);
        const p = await startRelayProcess(config, { log });
        phases.listening = performance.now();
        registerRelayMetrics(p.relay.counters, () => p.relay.flows);
        logStartupPhases(log, phases, p.natsReady, p.flowCache ? p.flowCacheReady : undefined);
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
      };
      // The relay makes no spans: metrics-only telemetry keeps the trace SDK out of its start-up.
      await runService('relay', config.PARLEY_METRICS_PORT, run, { traces: false });
    });
}

/** Milliseconds since the process started (performance.now()) at the end of each start-up phase. */
type StartupPhases = Record<string, number>;

/**
 * One info line once the relay has joined NATS and opened its flow cache
 * (or after 10 s): where a start-up went, phase by phase, in ms since the
 * process started. A restarted relay's calls are silent for that long, so
 * this is the line to read when a restart gap grows: `bootstrap` (Node
 * itself), `cli` (the CLI's modules), `config`, `telemetry` (the metrics
 * SDK), `modules` (the relay's), `listening` (sockets bound: forwarding),
 * `nats`, `flowCache` (known calls can be recovered from here on).
 */
function logStartupPhases(
  log: { info(o: object, msg: string): void },
  phases: StartupPhases,
  natsReady: Promise<void>,
  flowCacheReady: Promise<void> | undefined,
): void {
  const mark = (name: string) => () => {
    phases[name] = performance.now();
  };
  const done = Promise.all([natsReady.then(mark('nats')), flowCacheReady?.then(mark('flowCache'))]);
  const limit = new Promise<void>((r) => setTimeout(r, 10_000).unref());
  void Promise.race([done, limit]).then(() => {
    const ms = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v * 10) / 10]));
    log.info({ ms }, 'relay start-up phases');
  });
}
