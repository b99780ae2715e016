import { hostPort, loadConfig, millis, natsServers, port } from '@parley/shared/config/load-config.js';
import { z } from 'zod';
import { MIN_SECRET_LENGTH } from './auth.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http-server.js';
import { PlacementEnvShape, placementConfigOf } from './placement-config.js';

const optionalText = z.string().trim().min(1).optional();

/** Comma-separated origins (`https://app.example.com`) or `*`. */
const corsOrigins = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const origins = s
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    for (const o of origins) {
      if (o !== '*' && !isOrigin(o)) {
        ctx.addIssue({ code: 'custom', message: `"${o}" is not an origin like https://app.example.com` });
        return z.NEVER;
      }
    }
    return origins;
  });

/** The environment of the edge signaling process, as documented in the README. */
export const SignalingEnv = z
  .object({
    PARLEY_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
    PARLEY_HTTP_PORT: port(8080),
    PARLEY_CLUSTER: z.string().min(1).default('local'),
    PARLEY_REGION: z.string().min(1).default('local'),
    PARLEY_RELAY_ADVERTISE: hostPort,
    /** ip:port of the relay's ICE-TCP port, for clients whose UDP is blocked; unset = no TCP candidate. */
    PARLEY_RELAY_TCP_ADVERTISE: hostPort.optional(),
    PARLEY_AUTH: z.enum(['jwt', 'off']).default('jwt'),
    PARLEY_AUTH_JWT_SECRET: z.string().optional(),
    PARLEY_AUTH_JWT_ISSUER: optionalText,
    PARLEY_AUTH_JWT_AUDIENCE: optionalText,
    PARLEY_OFFER_TIMEOUT_MS: millis(5_000),
    PARLEY_MAX_OFFER_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(65_536),
    PARLEY_CORS_ORIGINS: corsOrigins,
    PARLEY_HTTP_HEADERS_TIMEOUT_MS: millis(DEFAULT_HTTP_LIMITS.headersTimeoutMs),
    PARLEY_HTTP_REQUEST_TIMEOUT_MS: millis(DEFAULT_HTTP_LIMITS.requestTimeoutMs),
    PARLEY_HTTP_KEEPALIVE_TIMEOUT_MS: millis(DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs),
    PARLEY_HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(DEFAULT_HTTP_LIMITS.maxConnections),
    PARLEY_HTTP_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(DEFAULT_HTTP_LIMITS.maxInFlight),
    ...PlacementEnvShape,
    NATS_URL: natsServers,
  })
  .superRefine(
    (env, ctx) => {
      // Node rejects a headers timeout longer than the request timeout at startup; say so here instead.
      if (env.PARLEY_HTTP_HEADERS_TIMEOUT_MS > env.PARLEY_HTTP_REQUEST_TIMEOUT_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['PARLEY_HTTP_HEADERS_TIMEOUT_MS'],
          message: 'must not exceed PARLEY_HTTP_REQUEST_TIMEOUT_MS',
        });
      }
      if (env.PARLEY_AUTH === 'off') return;
      const secret = env.PARLEY_AUTH_JWT_SECRET;
      if (typeof secret !== 'string') {
        ctx.addIssue({
          code: 'custom',
          path: ['PARLEY_AUTH_JWT_SECRET'],
          message: 'required when PARLEY_AUTH=jwt (or set PARLEY_AUTH=off for local development)',
        });
      } else if (secret.length < MIN_SECRET_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          path: ['PARLEY_AUTH_JWT_SECRET'],
          message: `must be at least ${MIN_SECRET_LENGTH} characters`,
        });
      }
    },
    // Also run when other variables are bad, so one error message lists them all.
    { when: () => true },
  )
  .transform((env) => ({
    http: {
      host: env.PARLEY_HTTP_HOST,
      port: env.PARLEY_HTTP_PORT,
      limits: {
        headersTimeoutMs: env.PARLEY_HTTP_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: env.PARLEY_HTTP_REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: env.PARLEY_HTTP_KEEPALIVE_TIMEOUT_MS,
        maxConnections: env.PARLEY_HTTP_MAX_CONNECTIONS,
        maxInFlight: env.PARLEY_HTTP_MAX_IN_FLIGHT,
        // Twice the largest accepted offer: a client just over the limit keeps its connection.
        drainLimitBytes: Math.max(64 * 1024, 2 * env.PARLEY_MAX_OFFER_BYTES),
      } satisfies HttpLimits,
    },
    cluster: env.PARLEY_CLUSTER,
    region: env.PARLEY_REGION,
    placement: placementConfigOf(env),
    relayAdvertise: env.PARLEY_RELAY_ADVERTISE,
    relayTcpAdvertise: env.PARLEY_RELAY_TCP_ADVERTISE,
    auth:
      env.PARLEY_AUTH === 'jwt'
        ? {
            mode: 'jwt' as const,
            secret: env.PARLEY_AUTH_JWT_SECRET as string,
            issuer: env.PARLEY_AUTH_JWT_ISSUER,
            audience: env.PARLEY_AUTH_JWT_AUDIENCE,
          }
        : { mode: 'off' as const },
    offerTimeoutMs: env.PARLEY_OFFER_TIMEOUT_MS,
    maxOfferBytes: env.PARLEY_MAX_OFFER_BYTES,
    corsOrigins: env.PARLEY_CORS_ORIGINS,
    natsServers: env.NATS_URL,
  }));

export type SignalingConfig = z.infer<typeof SignalingEnv>;

/** Reads and validates the environment; throws ConfigError listing every bad variable. */
export function loadSignalingConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, string | undefined> = {},
): SignalingConfig {
  return loadConfig(SignalingEnv, env, overrides);
}

function isOrigin(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === s;
  } catch {
    return false;
  }
}
