import { connect, type NatsConnection, nuid } from '@nats-io/transport-node';
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

/**
 * Draws a new random prefix for the ids nats.js makes (inbox subjects, the
 * replies to this process's requests). It draws one when its module is
 * evaluated, so a process started from a V8 startup snapshot (the relay's:
 * cli/src/relay-snapshot.ts) would share the one drawn at build time with
 * every other process from that blob, and receive their replies.
 */
export function reseedNatsIds(): void {
  nuid.reset();
}
