import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { FlowCacheError, type FlowCacheStore } from './flow-cache.js';

/**
 * KV keys allow [-/_=.a-zA-Z0-9]; an address has ':' (IPv6, and before the
 * port). Hex of the UTF-8 "ip:port" is unambiguous for both families.
 */
export function kvKey(client: string): string {
  return `c.${Buffer.from(client, 'utf8').toString('hex')}`;
}

/**
 * The flow cache in a NATS JetStream KV bucket, one per edge region (the
 * mesh already runs NATS). The bucket's max age is the entry TTL, so an
 * entry a crashed relay never deleted goes away by itself; history 1 keeps
 * only the latest token per client.
 */
export async function openKvFlowCacheStore(
  nc: NatsConnection,
  bucket: string,
  ttlMs: number,
): Promise<FlowCacheStore> {
  let kv: KV;
  try {
    kv = await new Kvm(nc).create(bucket, { ttl: ttlMs, history: 1 });
  } catch (err) {
    throw new FlowCacheError(`cannot open KV bucket ${bucket} (is JetStream on? nats-server -js)`, {
      cause: err,
    });
  }
  return {
    put: async (client, token) => {
      await kv.put(kvKey(client), token);
    },
    // A KV put is a JetStream publish to $KV.<bucket>.<key> (ADR-8); a plain core publish to the same
    // subject is stored the same way, minus the acknowledgement round trip and its request machinery.
    touch: (client, token) => {
      if (nc.isClosed() || nc.isDraining()) throw new FlowCacheError('NATS connection closed');
      nc.publish(`$KV.${bucket}.${kvKey(client)}`, token);
    },
    delete: async (client) => {
      await kv.delete(kvKey(client));
    },
    get: async (client) => {
      const e = await kv.get(kvKey(client));
      if (e === null || e.operation !== 'PUT' || e.length === 0) return undefined;
      return e.string();
    },
    close: async () => {},
  };
}
