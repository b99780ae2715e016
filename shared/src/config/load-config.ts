import { z } from 'zod';
import { parseKeyring } from '../token/routing-token.js';

/**
 * Validates process configuration from the environment (and flag overrides)
 * against a zod schema, and fails with one readable message listing every
 * bad variable, instead of a stack trace on the first one.
 */
export function loadConfig<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined>,
  overrides: Record<string, string | undefined> = {},
): z.infer<T> {
  // Unset flags arrive as undefined overrides and must not hide the environment.
  const merged: Record<string, string> = {};
  for (const source of [env, overrides]) {
    for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') merged[k] = v;
  }
  const parsed = schema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const millis = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** `ip:port`, as advertised in SDP candidates. IPv6 in brackets. */
export const hostPort = z.string().transform((s, ctx) => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  const p = m ? Number(m[3]) : 0;
  if (!m || p < 1 || p > 65535) {
    ctx.addIssue({ code: 'custom', message: `expected ip:port, got "${s}"` });
    return z.NEVER;
  }
  return { ip: (m[1] ?? m[2]) as string, port: p };
});

/** NATS_URL may list several servers, comma-separated. */
export const natsServers = z
  .string()
  .default('nats://127.0.0.1:4222')
  .transform((s) =>
    s
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
  );

export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');

/** PARLEY_TOKEN_KEYS, shared by relays and transceivers: `kid:base64secret[,kid:base64secret]`. */
export const tokenKeyring = z
  .string({ error: 'PARLEY_TOKEN_KEYS is required (kid:base64secret)' })
  .transform((s, ctx) => {
    try {
      return parseKeyring(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });
