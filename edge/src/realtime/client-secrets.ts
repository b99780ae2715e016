import { createHash, timingSafeEqual } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { AGENT_CLAIM, bearerToken } from '../signaling/auth.js';

/**
 * Short-lived client secrets for the OpenAI-Realtime-compatible front door.
 * An application's server holds a long-lived key (PARLEY_REALTIME_API_KEYS)
 * and trades it for a secret its browser may hold, as with OpenAI's
 * `/v1/realtime/client_secrets`. A secret is `ek_` + an HS256 JWT signed with
 * the key that minted it (named by `kid`), so every edge can verify it
 * without shared state, and removing a key revokes its secrets. The `ek_`
 * prefix is what OpenAI's SDKs look for before they agree to use a key in a
 * browser.
 */
export const CLIENT_SECRET_PREFIX = 'ek_';
/** OpenAI's default and upper bound for a client secret's lifetime. */
export const DEFAULT_TTL_SECONDS = 600;
export const MIN_TTL_SECONDS = 10;
export const MAX_TTL_SECONDS = 7200;
export const MIN_APP_KEY_LENGTH = 32;
/** Keeps client secrets from being mistaken for any other token signed with the same bytes. */
const AUDIENCE = 'parley-realtime-client-secret';
const SESSION_CLAIM = 'parley_rt_session';
/** Realtime model names that are OpenAI's, not Parley agent names: they get the transceiver's default agent. */
const OPENAI_MODEL = /^gpt-/;
const AGENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class AppKeyConfigError extends Error {
  override readonly name = 'AppKeyConfigError';
}

export interface AppKey {
  /** sha256(key) prefix: names the key in tokens and logs without revealing it. */
  readonly id: string;
  readonly key: Uint8Array;
  readonly digest: Buffer;
}

/** `PARLEY_REALTIME_API_KEYS`: comma-separated application keys, each at least 32 characters. */
export function parseAppKeys(value: string): AppKey[] {
  const keys = value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (keys.length === 0) throw new AppKeyConfigError('PARLEY_REALTIME_API_KEYS names no key');
  return keys.map((k, i) => {
    if (k.length < MIN_APP_KEY_LENGTH)
      throw new AppKeyConfigError(
        `PARLEY_REALTIME_API_KEYS key #${i + 1} must be at least ${MIN_APP_KEY_LENGTH} characters`,
      );
    const digest = createHash('sha256').update(k).digest();
    return { id: digest.subarray(0, 8).toString('hex'), key: new TextEncoder().encode(k), digest };
  });
}

export interface MintRequest {
  ttlSeconds?: number;
  /** The `session` object of the request, as given (type realtime, model, instructions, …). */
  session?: Record<string, unknown>;
}

export interface MintedSecret {
  value: string;
  /** Unix seconds. */
  expires_at: number;
  session: Record<string, unknown>;
}

export type SecretCheck =
  | { ok: true; keyId: string; agent?: string; session: Record<string, unknown> }
  | { ok: false; detail: string };

export class ClientSecrets {
  private readonly byId: Map<string, AppKey>;

  constructor(
    readonly keys: readonly AppKey[],
    /** Wall clock, ms. */
    private readonly now: () => number = Date.now,
  ) {
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  /** The application key in `Authorization: Bearer …`, compared in constant time; undefined if none matches. */
  appKey(header: string | undefined): AppKey | undefined {
    const token = bearerToken(header);
    if (token === undefined || token.startsWith(CLIENT_SECRET_PREFIX)) return undefined;
    const digest = createHash('sha256').update(token).digest();
    let found: AppKey | undefined;
    // Every key is compared, so timing says nothing about which one (or whether any) matched.
    for (const k of this.keys) if (timingSafeEqual(k.digest, digest)) found = k;
    return found;
  }

  async mint(key: AppKey, req: MintRequest): Promise<MintedSecret> {
    const ttl = req.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    const nowS = Math.floor(this.now() / 1000);
    const session: Record<string, unknown> = { type: 'realtime', object: 'realtime.session', ...req.session };
    const agent = agentForModel(session.model);
    const jwt = await new SignJWT({
      [SESSION_CLAIM]: session,
      ...(agent !== undefined && { [AGENT_CLAIM]: agent }),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.id })
      .setSubject(`app:${key.id}`)
      .setAudience(AUDIENCE)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + ttl)
      .sign(key.key);
    return { value: `${CLIENT_SECRET_PREFIX}${jwt}`, expires_at: nowS + ttl, session };
  }

  async verify(header: string | undefined): Promise<SecretCheck> {
    if (header === undefined || header.trim() === '') return { ok: false, detail: 'missing bearer token' };
    const token = bearerToken(header);
    if (token === undefined)
      return { ok: false, detail: 'Authorization header must be "Bearer <client secret>"' };
    if (!token.startsWith(CLIENT_SECRET_PREFIX))
      return { ok: false, detail: `a client secret starts with "${CLIENT_SECRET_PREFIX}"` };
    try {
      const { payload, protectedHeader } = await jwtVerify(
        token.slice(CLIENT_SECRET_PREFIX.length),
        (h) => {
          const k = h.kid === undefined ? undefined : this.byId.get(h.kid);
          // Unknown kid: the key was removed (revoking its secrets) or never existed.
          if (!k) throw new errors.JWSSignatureVerificationFailed('unknown key');
          return k.key;
        },
        {
          algorithms: ['HS256'],
          audience: AUDIENCE,
          requiredClaims: ['exp'],
          currentDate: new Date(this.now()),
          clockTolerance: 5,
        },
      );
      const session = payload[SESSION_CLAIM];
      const agent = payload[AGENT_CLAIM];
      return {
        ok: true,
        keyId: protectedHeader.kid as string,
        session: typeof session === 'object' && session !== null ? (session as Record<string, unknown>) : {},
        ...(typeof agent === 'string' && { agent }),
      };
    } catch (e) {
      if (e instanceof errors.JWTExpired) return { ok: false, detail: 'client secret expired' };
      if (e instanceof errors.JWSSignatureVerificationFailed)
        return { ok: false, detail: 'client secret is not valid for this deployment' };
      if (e instanceof errors.JWTClaimValidationFailed)
        return { ok: false, detail: `client secret claim "${e.claim}" is invalid` };
      return { ok: false, detail: 'client secret is malformed' };
    }
  }
}

/**
 * A session's `model` names the Parley agent to talk to (`echo`, `grpc`,
 * `realtime`); OpenAI model names (gpt-…) get the transceiver's default, so
 * an application that only changed its base URL still gets an agent.
 */
export function agentForModel(model: unknown): string | undefined {
  if (typeof model !== 'string' || OPENAI_MODEL.test(model) || !AGENT_NAME.test(model)) return undefined;
  return model;
}
