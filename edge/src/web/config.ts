import { loadConfig } from '@parley/shared/config/load-config.js';
import { z } from 'zod';

/** Hosts that only this machine can reach; the dev token endpoint must never be exposed beyond them. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** The environment of the edge's web page, as documented in edge/src/web/README.md. */
export const WebEnv = z
  .object({
    PARLEY_WEB_CLIENT: z.enum(['on', 'off']).default('on'),
    PARLEY_DEV_TOKEN_ENDPOINT: z.enum(['0', '1']).default('0'),
    PARLEY_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  })
  .superRefine((env, ctx) => {
    // The endpoint hands out signaling tokens to anyone who asks: it is a
    // development convenience and must not be reachable from other machines.
    if (env.PARLEY_DEV_TOKEN_ENDPOINT === '1' && !isLoopbackHost(env.PARLEY_HTTP_HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PARLEY_DEV_TOKEN_ENDPOINT'],
        message: `only allowed when PARLEY_HTTP_HOST is a loopback address, not "${env.PARLEY_HTTP_HOST}"`,
      });
    }
  })
  .transform((env) => ({
    client: env.PARLEY_WEB_CLIENT === 'on',
    devTokenEndpoint: env.PARLEY_DEV_TOKEN_ENDPOINT === '1',
  }));

export type WebConfig = z.infer<typeof WebEnv>;

/** Reads and validates the environment; throws ConfigError listing every bad variable. */
export function loadWebConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, string | undefined> = {},
): WebConfig {
  return loadConfig(WebEnv, env, overrides);
}
