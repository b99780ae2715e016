import type { Command } from 'commander';
import { configOrExit, runService } from '../service-runner.js';

export function registerEdge(program: Command): void {
  program
    .command('edge')
    .description('run the signaling edge: WHIP-style HTTP API that places sessions on transceivers over NATS')
    .option('--port <port>', 'HTTP port (PARLEY_HTTP_PORT, default 8080)')
    .option('--host <ip>', 'HTTP bind address (PARLEY_HTTP_HOST, default 0.0.0.0)')
    .option('--relay <ip:port>', 'relay address put in answers (PARLEY_RELAY_ADVERTISE, required)')
    .option('--metrics-port <port>', 'Prometheus scrape port (PARLEY_METRICS_PORT, default 9464)')
    .addHelpText(
      'after',
      '\nEnvironment: NATS_URL, PARLEY_CLUSTER, PARLEY_REGION, PARLEY_AUTH (jwt|off), PARLEY_AUTH_JWT_SECRET,\n' +
        'PARLEY_AUTH_JWT_ISSUER, PARLEY_AUTH_JWT_AUDIENCE, PARLEY_OFFER_TIMEOUT_MS, PARLEY_MAX_OFFER_BYTES,\n' +
        'PARLEY_CORS_ORIGINS, PARLEY_WEB_CLIENT (on|off: the voice page at /), PARLEY_DEV_TOKEN_ENDPOINT (1: GET /dev/token\n' +
        'mints tokens for the page; loopback listeners only). API: POST /v1/sessions (application/sdp),\n' +
        'DELETE /v1/sessions/{id}, GET /healthz.\n' +
        '\nExamples:\n' +
        '  PARLEY_AUTH_JWT_SECRET=... parley edge --relay 203.0.113.7:3478\n' +
        '  PARLEY_AUTH=off PARLEY_WEB_CLIENT=off parley edge --port 8081 --relay 127.0.0.1:3478',
    )
    .action(async (o: { port?: string; host?: string; relay?: string; metricsPort?: string }) => {
      const { loadSignalingConfig } = await import('@parley/edge/signaling/config.js');
      const { loadWebConfig } = await import('@parley/edge/web/config.js');
      const overrides = {
        PARLEY_HTTP_PORT: o.port,
        PARLEY_HTTP_HOST: o.host,
        PARLEY_RELAY_ADVERTISE: o.relay,
      };
      const config = configOrExit(() => loadSignalingConfig(process.env, overrides));
      const web = configOrExit(() => loadWebConfig(process.env, overrides));
      const metricsPort = Number(o.metricsPort ?? process.env.PARLEY_METRICS_PORT ?? 9464);
      await runService('edge', metricsPort, async () => {
        const { createLogger } = await import('@parley/shared/log.js');
        const { startSignalingServer } = await import('@parley/edge/signaling/server.js');
        const { traceRequests } = await import('@parley/edge/signaling/tracing.js');
        const { injectTraceContext } = await import('@parley/shared/telemetry/nats-trace.js');
        const { mountWebClient } = await import('@parley/edge/web/mount.js');
        const { mountDevTokenEndpoint } = await import('@parley/edge/web/dev-token.js');
        const log = createLogger('edge', process.env.PARLEY_LOG_LEVEL ?? 'info');
        const auth = config.auth;
        const server = await startSignalingServer(config, {
          log,
          injectHeaders: injectTraceContext,
          middleware: [traceRequests()],
          mount: (app) => {
            if (web.client) mountWebClient(app);
            // With auth off the page needs no token, so there is nothing to hand out.
            if (web.devTokenEndpoint && auth.mode === 'jwt') {
              log.warn(
                'DEV TOKEN ENDPOINT IS ON (PARLEY_DEV_TOKEN_ENDPOINT=1): GET /dev/token mints signaling tokens',
              );
              mountDevTokenEndpoint(app, {
                secret: auth.secret,
                ...(auth.issuer !== undefined && { issuer: auth.issuer }),
                ...(auth.audience !== undefined && { audience: auth.audience }),
              });
            }
          },
        });
        return {
          info: { url: server.url, ...(web.client && { page: `${server.url}/` }) },
          stop: () => server.close(),
        };
      });
    });
}
