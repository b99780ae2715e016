import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { relayStartup, sinceStart } from '../relay-startup.js';
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
        // Started through main.js's execve() into the snapshot: the first program image's share.
        ...(relayStartup.execOffsetMs > 0 && { exec: relayStartup.execOffsetMs }),
        bootstrap: sinceStart(performance.nodeTiming.bootstrapComplete),
        cli: sinceStart(),
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
      phases.config = sinceStart();
      // A crashed relay's successor starts while its calls are silent: it forwards first and loads its
      // telemetry afterwards. In handover mode the predecessor serves until the successor is ready, so the
      // successor loads everything first and then stalls nothing once the traffic is its own.
      const lateTelemetry = config.PARLEY_RELAY_REUSE_PORT !== 'handover';
      let telemetryStarted: () => void = () => undefined;
      const telemetryDone = new Promise<void>((r) => {
        telemetryStarted = r;
      });
      const run = async () => {
        if (!lateTelemetry) phases.telemetry = sinceStart();
        const { createLogger } = await import('@parley/shared/log.js');
        const { startRelayProcess } = await import('@parley/edge/relay/relay-process.js');
        phases.modules = sinceStart();
        const log = createLogger('relay', config.PARLEY_LOG_LEVEL);
        // Late telemetry: instruments are created once it is up (onTelemetry below).
        const p = await startRelayProcess(config, { log, metrics: !lateTelemetry });
        if (!lateTelemetry) {
          const { registerRelayMetrics } = await import('@parley/edge/relay/relay-metrics.js');
          registerRelayMetrics(p.relay.counters, () => p.relay.flows);
        }
        phases.listening = sinceStart();
        logStartupPhases(log, phases, {
          nats: p.natsReady,
          ...(p.flowCache && { flowCache: p.flowCacheReady }),
          ...(lateTelemetry && { telemetry: telemetryDone }),
        });
        // Late telemetry waits until known calls had their chance to be recovered from the flow cache (or
        // the runner's limit, NATS still away): its loading stalls forwarding, in short steps.
        const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
        // A NATS without JetStream never opens the bucket: give up on it a second after joining.
        const cacheOpen = p.flowCache
          ? Promise.race([p.flowCacheReady, p.natsReady.then(() => sleep(1_000))])
          : p.natsReady;
        const settled = lateTelemetry ? cacheOpen.then(() => sleep(TELEMETRY_SETTLE_MS)) : undefined;
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
          ...(settled && {
            telemetryWhen: settled,
            onTelemetry: () => {
              p.registerMetrics();
              telemetryStarted();
            },
          }),
        };
      };
      // The relay makes no spans: metrics-only telemetry keeps the trace SDK out of its start-up.
      await runService('relay', config.PARLEY_METRICS_PORT, run, {
        traces: false,
        telemetry: lateTelemetry ? 'after-start' : 'before-start',
      });
    });
}

/** Milliseconds since the process started (sinceStart) at the end of each start-up phase. */
type StartupPhases = Record<string, number>;

/** After the flow cache opened: time for known calls' next packets to recover their flows before telemetry loads. */
const TELEMETRY_SETTLE_MS = 500;

/**
 * One info line once the relay has joined NATS, opened its flow cache and
 * started its telemetry (or after 10 s): where a start-up went, phase by
 * phase, in ms since the process started. A restarted relay's calls are
 * silent until `flowCache`, so this is the line to read when a restart gap
 * grows: `exec` (main.js, when it execve()d into the snapshot), `bootstrap`
 * (Node itself, and the snapshot's heap), `cli` (the CLI's modules), `config`,
 * `modules` (the relay's), `listening` (sockets bound: forwarding), `nats`,
 * `flowCache` (known calls can be recovered from here on), `telemetry`
 * (metrics served, loaded after all that).
 */
function logStartupPhases(
  log: { info(o: object, msg: string): void },
  phases: StartupPhases,
  waits: Record<string, Promise<void>>,
): void {
  const done = Promise.all(
    Object.entries(waits).map(([name, p]) =>
      p.then(() => {
        phases[name] = sinceStart();
      }),
    ),
  );
  const limit = new Promise<void>((r) => setTimeout(r, 10_000).unref());
  void Promise.race([done, limit]).then(() => {
    const ms = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v * 10) / 10]));
    // How this process loaded its code (main.ts falls back from the snapshot to the one-file bundle to the
    // unbundled CLI when one is missing or stale): the phases above differ by ~100 ms from one to the next.
    log.info({ ms, loadedFrom: relayStartup.loadedFrom }, 'relay start-up phases');
  });
}
