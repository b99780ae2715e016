import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log.js';

export type { NatsConnection };

/**
 * Connects with reconnects forever: a NATS blip must not kill relays or
 * transceivers that are carrying media. Status changes are logged.
 */
export async function connectNats(servers: string[], name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        log.warn({ nats: s.type, server: 'server' in s ? s.server : undefined }, `nats ${s.type}`);
      }
    }
  })();
  return nc;
}
