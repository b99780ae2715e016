import { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import { watchTransceivers } from '@parley/shared/discovery/watch-transceivers.js';
import { createLogger, type Logger } from '@parley/shared/log.js';
import { connectNats } from '@parley/shared/nats/connect.js';
import type { RelayConfig } from './config.js';
import type { Clock } from './flow-table.js';
import { type Relay, startRelay } from './relay.js';

export interface RelayProcess {
  relay: Relay;
  /** Live transceivers as learned from NATS announcements. */
  table: TransceiverTable;
  close(): Promise<void>;
}

export interface RelayProcessOptions {
  log?: Logger;
  clock?: Clock;
}

/**
 * The relay as deployed: discovery over NATS feeds the route resolver, and
 * the data path never waits on NATS. If NATS goes away, existing flows keep
 * forwarding and the table just ages out; new flows fail until it returns.
 */
export async function startRelayProcess(
  config: RelayConfig,
  opts: RelayProcessOptions = {},
): Promise<RelayProcess> {
  const log = opts.log ?? createLogger('relay', config.PARLEY_LOG_LEVEL);
  const clock = opts.clock ?? Date.now;
  const nc = await connectNats(config.NATS_URL, 'parley-relay', log);
  const table = new TransceiverTable(clock);
  const watch = watchTransceivers(nc, table, log);
  let relay: Relay;
  try {
    relay = await startRelay({
      host: config.PARLEY_RELAY_HOST,
      port: config.PARLEY_RELAY_PORT,
      upstreamHost: config.PARLEY_RELAY_UPSTREAM_HOST,
      keyring: config.PARLEY_TOKEN_KEYS,
      resolveRoute: (routeId) => table.byRouteId(routeId),
      idleTimeoutMs: config.PARLEY_RELAY_IDLE_TIMEOUT_MS,
      maxFlows: config.PARLEY_RELAY_MAX_FLOWS,
      newFlowsPerIpPerSecond: config.PARLEY_RELAY_NEW_FLOWS_PER_IP_PER_SECOND,
      clock,
      log,
    });
  } catch (err) {
    watch.stop();
    await nc.close();
    throw err;
  }
  return {
    relay,
    table,
    close: async () => {
      await relay.close();
      watch.stop();
      await nc.close();
    },
  };
}
