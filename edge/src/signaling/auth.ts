import { errors, jwtVerify, SignJWT } from 'jose';

export type AuthResult = { ok: true; subject?: string; agent?: string } | { ok: false; detail: string };

/**
 * JWT claim naming the agent a token may talk to. The application that issues
 * tokens decides which voice model a user gets; the edge enforces it.
 */
export const AGENT_CLAIM = 'parley_agent';

export interface Authenticator {
  /** Takes the raw Authorization header; never throws for bad input. */
  verify(authorizationHeader: string | undefined): Promise<AuthResult>;
}

export interface JwtAuthOptions {
  /** HS256 shared secret; at least 32 characters (RFC 7518 §3.2 wants >= 256 bits). */
  secret: string;
  issuer?: string;
  audience?: string;
  /** Allowed clock skew between token issuer and this edge. */
  clockToleranceSeconds?: number;
}

export const MIN_SECRET_LENGTH = 32;
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/** Extracts the token from `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Verifies HS256 JWTs. Tokens must expire (`exp` is required) so that a
 * leaked token is not a permanent key to start sessions.
 */
export function createJwtAuthenticator(opts: JwtAuthOptions): Authenticator {
  if (opts.secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`JWT secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const key = new TextEncoder().encode(opts.secret);
  const clockTolerance = opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  return {
    async verify(header) {
      if (header === undefined || header.trim() === '') return { ok: false, detail: 'missing bearer token' };
      const token = bearerToken(header);
      if (token === undefined) return { ok: false, detail: 'Authorization header must be "Bearer <token>"' };
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: opts.issuer,
          audience: opts.audience,
          clockTolerance,
          requiredClaims: ['exp'],
        });
        const agent = payload[AGENT_CLAIM];
        if (agent !== undefined && typeof agent !== 'string') {
          return { ok: false, detail: `claim ${AGENT_CLAIM} must be a string` };
        }
        return {
          ok: true,
          ...(payload.sub !== undefined && { subject: payload.sub }),
          ...(agent !== undefined && { agent }),
        };
      } catch (e) {
        return { ok: false, detail: describeJoseError(e) };
      }
    },
  };
}

/** `PARLEY_AUTH=off`: everyone is anonymous. Only for the local dev stack. */
export function createNoAuth(): Authenticator {
  return { verify: async () => ({ ok: true }) };
}

/** A short-lived HS256 token the dev stack prints so a browser or CLI can call the API. */
export async function mintDevToken(
  secret: string,
  opts: { subject: string; ttlSeconds?: number; issuer?: string; audience?: string; agent?: string },
): Promise<string> {
  let jwt = new SignJWT(opts.agent === undefined ? {} : { [AGENT_CLAIM]: opts.agent })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.subject)
    .setIssuedAt()
    .setExpirationTime(`${opts.ttlSeconds ?? 3600}s`);
  if (opts.issuer !== undefined) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience !== undefined) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

// Details go back to the client (RFC 6750 error_description), so they name
// the failed check but never echo the token or internals.
function describeJoseError(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token expired';
  if (e instanceof errors.JWTClaimValidationFailed)
    return `token claim "${e.claim}" is invalid (${e.reason})`;
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (e instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  return 'token is malformed';
}
