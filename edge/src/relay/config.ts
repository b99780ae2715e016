import {
  loadConfig,
  logLevel,
  millis,
  natsServers,
  port,
  tokenKeyring,
} from '@parley/shared/config/load-config.js';
import { z } from 'zod';

/**
 * Relay process configuration, from the environment. PARLEY_TOKEN_KEYS holds
 * secrets: the parsed config must never be logged whole.
 */
export const RelayConfigSchema = z.object({
  PARLEY_RELAY_HOST: z.string().min(1).default('0.0.0.0'),
  PARLEY_RELAY_PORT: port(3478),
  /** Local address of the per-flow upstream sockets (the interface facing the transceivers). */
  PARLEY_RELAY_UPSTREAM_HOST: z.string().min(1).default('0.0.0.0'),
  PARLEY_RELAY_IDLE_TIMEOUT_MS: millis(30_000),
  /**
   * Each flow holds one upstream socket: one file descriptor and one ephemeral
   * port of PARLEY_RELAY_UPSTREAM_HOST. Raise RLIMIT_NOFILE and
   * net.ipv4.ip_local_port_range (28k ports by default) to really reach 100k.
   */
  PARLEY_RELAY_MAX_FLOWS: z.coerce.number().int().min(1).default(100_000),
  /** Flows one session's routing token may hold: a replayed token cannot cost more sockets. */
  PARLEY_RELAY_MAX_FLOWS_PER_TOKEN: z.coerce.number().int().min(1).default(8),
  /** Flows one source IP may hold (CGNAT puts many users behind one address). */
  PARLEY_RELAY_MAX_FLOWS_PER_IP: z.coerce.number().int().min(1).default(512),
  /** Token verifications per source IP per second; 0 disables the limit. */
  PARLEY_RELAY_NEW_FLOWS_PER_IP_PER_SECOND: z.coerce.number().int().min(0).default(200),
  /** ICE-TCP passive (RFC 6544) for clients whose UDP is blocked; 0 turns it off. */
  PARLEY_RELAY_TCP_PORT: z.coerce.number().int().min(0).max(65535).default(443),
  /** Address for the TCP port; defaults to PARLEY_RELAY_HOST. */
  PARLEY_RELAY_TCP_HOST: z.string().min(1).optional(),
  PARLEY_RELAY_TCP_HANDSHAKE_TIMEOUT_MS: millis(5_000),
  PARLEY_RELAY_TCP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(10_000),
  PARLEY_RELAY_TCP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(32),
  /**
   * Shared flow cache (client ip:port -> routing token) in a NATS JetStream KV
   * bucket, so a restarted or sibling relay forwards a known call's next SRTP
   * packet at once; needs JetStream (nats-server -js). off: no sharing.
   */
  PARLEY_RELAY_FLOW_CACHE: z.enum(['kv', 'off']).default('kv'),
  /** One bucket per edge region: the relays behind one load balancer share it. */
  PARLEY_RELAY_FLOW_CACHE_BUCKET: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default('parley-relay-flows'),
  /** Entry lifetime; live flows are re-put after half of it. Defaults to PARLEY_RELAY_IDLE_TIMEOUT_MS. */
  PARLEY_RELAY_FLOW_CACHE_TTL_MS: z.coerce.number().int().min(1_000).optional(),
  /**
   * A local file that keeps the flow cache's entries too (flow-journal.ts): a
   * relay restarted in the same place (its pod's emptyDir) recovers its
   * calls' flows as soon as it listens, before it has joined NATS. Unset:
   * none. Used only with the flow cache on.
   */
  PARLEY_RELAY_FLOW_JOURNAL: z.string().min(1).optional(),
  /**
   * SO_REUSEPORT on the public UDP port: a second relay process (a sibling or
   * the next version) can bind it while this one runs; the kernel spreads
   * clients over both and moves them to the survivor when one exits, which
   * rebuilds their flows from the flow cache. Only processes of the same
   * user may join the group. handover: planned restarts with no packet
   * lost (handover.ts): the running relay steers the port to itself, and a
   * second relay started with the same settings takes its flow table over
   * a local socket, steers the port to itself, and the old one drains and
   * exits. Needs native I/O.
   */
  PARLEY_RELAY_REUSE_PORT: z.enum(['0', '1', 'handover']).default('0'),
  /** Handover: the old relay exits once nothing crossed it for this long (or after the max). */
  PARLEY_RELAY_HANDOVER_QUIET_MS: millis(1_000),
  PARLEY_RELAY_HANDOVER_MAX_MS: millis(10_000),
  /**
   * UDP I/O of the public and upstream sockets: native = recvmmsg/sendmmsg
   * through the @parley/native addon (Linux, IPv4; fails to start if the
   * addon is missing), dgram = node:dgram (portable), auto = native when it
   * loads and both addresses are IPv4, else dgram.
   */
  PARLEY_RELAY_IO: z.enum(['auto', 'native', 'dgram']).default('auto'),
  PARLEY_TOKEN_KEYS: tokenKeyring,
  NATS_URL: natsServers,
  PARLEY_METRICS_PORT: port(9465),
  PARLEY_LOG_LEVEL: logLevel,
});

export type RelayConfig = z.infer<typeof RelayConfigSchema>;

export function loadRelayConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, string | undefined> = {},
): RelayConfig {
  return loadConfig(RelayConfigSchema, env, overrides);
}
