import { hostname } from 'node:os';
import {
  ConfigError,
  loadConfig,
  logLevel,
  millis,
  natsServers,
  port,
  tokenKeyring,
} from '@parley/shared/config/load-config.js';
import { z } from 'zod';

/** Transceiver process configuration, from the environment. */
export const TransceiverConfigSchema = z
  .object({
    PARLEY_TRANSCEIVER_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1-64 chars of A-Z a-z 0-9 _ -')
      .default(
        () =>
          `${hostname()
            .replace(/[^A-Za-z0-9_-]/g, '-')
            .slice(0, 40)}-${process.pid}`,
      ),
    PARLEY_CLUSTER: z.string().min(1).default('local'),
    PARLEY_REGION: z.string().min(1).default('local'),
    PARLEY_PRIVATE_ADDRESS: z.string().min(1).default('127.0.0.1'),
    // The ONE private UDP port every ICE session of this transceiver shares (as pion's UDPMux and
    // mediasoup's WebRtcServer do): sessions are told apart by their ufrag (the routing token) and
    // then by the relay flow's address. One port keeps the firewall rule to relays a single port,
    // announces as one number, and puts no port count between a transceiver and its capacity.
    PARLEY_ICE_PORT: z.coerce.number().int().min(1).max(65535).default(20_000),
    // How that socket does I/O: recvmmsg/sendmmsg batches through the native addon (auto picks it
    // when built and the address is IPv4), or node:dgram, one system call per datagram.
    PARLEY_UDP_IO: z.enum(['auto', 'recvmmsg', 'node:dgram']).default('auto'),
    PARLEY_CAPACITY: z.coerce.number().int().min(0).default(500),
    // Setup admission (see session/setup-admission.ts): setups at once (0 = no limit), offers that may
    // wait, how long they may wait (below the edge's offer timeout), and when a slot is reclaimed.
    PARLEY_SETUP_CONCURRENCY: z.coerce.number().int().min(0).default(16),
    PARLEY_SETUP_QUEUE: z.coerce.number().int().min(0).default(256),
    PARLEY_SETUP_QUEUE_TIMEOUT_MS: millis(3_000),
    PARLEY_SETUP_HOLD_MS: millis(3_000),
    PARLEY_TOKEN_KEYS: tokenKeyring,
    PARLEY_DEFAULT_AGENT: z.string().default('echo'),
    // Agent bridges: each is registered (selectable per session with ?agent=) when its URL is set.
    PARLEY_AGENT_GRPC_URL: z.string().min(1).optional(),
    PARLEY_AGENT_GRPC_SAMPLE_RATE: z.coerce.number().int().min(8_000).max(48_000).default(16_000),
    // opus: the model server gets and sends the call's Opus packets (no decode/encode here; its own
    // turn detection, since our VAD needs PCM). pcm16 keeps servers written before the codec field working.
    PARLEY_AGENT_GRPC_CODEC: z.enum(['pcm16', 'opus']).default('pcm16'),
    PARLEY_REALTIME_URL: z
      .string()
      .regex(/^wss?:\/\/\S+$/, 'use a ws:// or wss:// URL')
      .optional(),
    // A secret: only ever from the environment, never a flag.
    PARLEY_REALTIME_API_KEY: z.string().min(1).optional(),
    PARLEY_AGENT_CONNECT_TIMEOUT_MS: millis(5_000),
    PARLEY_MAX_SESSION_SECONDS: z.coerce.number().int().min(10).default(7_200),
    PARLEY_ICE_TIMEOUT_MS: millis(10_000),
    PARLEY_CONSENT_TIMEOUT_MS: millis(30_000),
    PARLEY_DRAIN_TIMEOUT_MS: millis(30_000),
    PARLEY_ANNOUNCE_INTERVAL_MS: millis(1_000),
    PARLEY_METRICS_PORT: port(9466),
    PARLEY_LOG_LEVEL: logLevel,
    NATS_URL: natsServers,
  })
  .refine((c) => c.PARLEY_DEFAULT_AGENT !== 'grpc' || c.PARLEY_AGENT_GRPC_URL, {
    message: 'PARLEY_DEFAULT_AGENT=grpc needs PARLEY_AGENT_GRPC_URL (host:port of the model server)',
    path: ['PARLEY_AGENT_GRPC_URL'],
  })
  .refine((c) => c.PARLEY_DEFAULT_AGENT !== 'realtime' || c.PARLEY_REALTIME_URL, {
    message: 'PARLEY_DEFAULT_AGENT=realtime needs PARLEY_REALTIME_URL (ws:// or wss://)',
    path: ['PARLEY_REALTIME_URL'],
  });

export type TransceiverConfig = z.infer<typeof TransceiverConfigSchema>;

/** Variables that no longer exist, with what replaced them. */
const RETIRED: Record<string, string> = {
  PARLEY_ICE_PORT_MIN: 'PARLEY_ICE_PORT (one UDP port for all sessions)',
  PARLEY_ICE_PORT_MAX: 'PARLEY_ICE_PORT (one UDP port for all sessions)',
};

export function loadTransceiverConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, string | undefined> = {},
): TransceiverConfig {
  // Refused rather than ignored: a deployment still setting its old range would
  // otherwise bind the default port while its firewall admits only the range.
  const retired = Object.keys(RETIRED).filter((k) => env[k] || overrides[k]);
  if (retired.length)
    throw new ConfigError(
      `invalid configuration:\n${retired.map((k) => `  ${k}: no longer used; set ${RETIRED[k]}`).join('\n')}`,
    );
  return loadConfig(TransceiverConfigSchema, env, overrides);
}
