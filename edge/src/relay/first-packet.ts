import { isIP } from 'node:net';
import { classifyPacket } from '@parley/shared/stun/demux.js';
import {
  checkFingerprint,
  parseHeader,
  readUsername,
  STUN_METHOD_BINDING,
  StunClass,
  splitIceUsername,
} from '@parley/shared/stun/stun-message.js';
import {
  isTokenLength,
  type TokenKeyring,
  tokenId,
  verifyToken,
} from '@parley/shared/token/routing-token.js';
import type { DropReason } from './relay-counters.js';

/** What the relay needs to know about a transceiver (a TransceiverAnnounce fits). */
export interface RouteTarget {
  /** Private IP address; must be a literal so replies can be matched to it exactly. */
  address: string;
  /** The transceiver's one ICE UDP port, as announced: every flow to it goes there. */
  port: number;
}

export type RouteResolver = (routeId: string) => RouteTarget | undefined;

export interface FirstPacketContext {
  keyring: TokenKeyring;
  /** Wall clock in ms; tokens carry unix seconds. */
  nowMs: number;
  resolveRoute: RouteResolver;
  /** Family of the relay's upstream sockets: a target of the other family is unreachable. */
  family?: 4 | 6;
  /** Asked just before the HMAC (the only costly step); false drops as 'rate_limited'. */
  admit?: () => boolean;
  /** Ended sessions (by tokenId()): their tokens open nothing. */
  isRevoked?: (tokenId: string) => boolean;
  /**
   * When discovery does not know the route: true forwards to the address the
   * transceiver signed into a version 3 token (the relay has no discovery
   * yet, e.g. NATS is down); false drops it (discovery is live, so the
   * transceiver is gone).
   */
  useSignedTarget?: boolean;
}

export interface ForwardTarget {
  host: string;
  port: number;
  routeId: string;
  keyId: number;
  /** The server ufrag: the token as it appeared in USERNAME. */
  token: string;
  tokenId: string;
  /** Unix seconds. */
  expiresAt: number;
  /** Where the target came from. */
  via: 'discovery' | 'token';
}

export type FirstPacketDecision = { forward: ForwardTarget } | { drop: DropReason };

/**
 * Decides what to do with a datagram from a source that has no flow. Only
 * an ICE connectivity check (STUN Binding Request) whose USERNAME starts
 * with a valid, unexpired routing token signed by a key we hold, naming a
 * live transceiver, may open a flow, and only to that transceiver's announced
 * address and port (the token carries no port, so it cannot aim the relay at
 * any other port of that host): this is what keeps the relay from being an
 * open proxy. Cheap checks run first so floods of junk never reach the HMAC.
 */
export function decideFirstPacket(msg: Uint8Array, ctx: FirstPacketContext): FirstPacketDecision {
  const kind = classifyPacket(msg);
  if (kind !== 'stun') {
    // DTLS or RTP from an unknown source is typically a live call after a relay restart, until its next consent check.
    return { drop: kind === 'dtls' ? 'no_flow_dtls' : kind === 'rtp' ? 'no_flow_rtp' : 'no_flow_unknown' };
  }
  const header = parseHeader(msg);
  if (!header.ok) return { drop: 'stun_malformed' };
  if (header.cls !== StunClass.request || header.method !== STUN_METHOD_BINDING) {
    return { drop: 'stun_not_binding_request' };
  }
  const user = readUsername(msg);
  if (!user.ok) {
    if (user.reason === 'no_username') return { drop: 'stun_no_username' };
    if (user.reason === 'username_too_long') return { drop: 'username_malformed' };
    return { drop: 'stun_malformed' };
  }
  // FINGERPRINT is optional in STUN, but a wrong one means the bytes are not what the client sent.
  if (checkFingerprint(msg) === 'bad') return { drop: 'stun_bad_fingerprint' };
  const parts = splitIceUsername(user.username);
  if (!parts) return { drop: 'username_malformed' };
  return decideToken(parts.receiver, ctx);
}

/**
 * The token half of decideFirstPacket: verifies a routing token (signature,
 * expiry, revocation) and resolves its transceiver. Also used for a token
 * read back from the shared flow cache after a relay restart, which is
 * trusted no more than one read from the wire.
 */
export function decideToken(token: string, ctx: FirstPacketContext): FirstPacketDecision {
  if (!isTokenLength(token.length)) return { drop: 'token_malformed' };
  if (ctx.admit && !ctx.admit()) return { drop: 'rate_limited' };

  const verified = verifyToken(ctx.keyring, token, Math.floor(ctx.nowMs / 1000));
  if (!verified.ok) return { drop: `token_${verified.reason}` };
  const { routeId, expiresAt, target } = verified.claims;
  const id = tokenId(token);
  if (ctx.isRevoked?.(id)) return { drop: 'token_revoked' };

  let route = ctx.resolveRoute(routeId);
  let via: ForwardTarget['via'] = 'discovery';
  if (!route && target && ctx.useSignedTarget) {
    route = target;
    via = 'token';
  }
  if (!route) return { drop: 'route_unknown' };
  const host = normalizeIp(route.address, ctx.family);
  if (host === undefined) return { drop: 'route_bad_address' };
  return {
    forward: {
      host,
      port: route.port,
      routeId,
      keyId: verified.keyId,
      token,
      tokenId: id,
      expiresAt,
      via,
    },
  };
}

/**
 * The server ufrag (routing token) of a STUN Binding Request, or undefined
 * for anything else. Runs on every packet of a known flow, so it bails out
 * on the first two bytes for everything that is not a Binding Request (DTLS,
 * SRTP, responses); consent checks come every few seconds.
 */
export function bindingRequestToken(msg: Uint8Array): string | undefined {
  if (msg.length < 20 || msg[0] !== 0 || msg[1] !== 1) return undefined;
  const user = readUsername(msg);
  if (!user.ok) return undefined;
  return splitIceUsername(user.username)?.receiver;
}

/**
 * One canonical spelling of an IP literal (IPv6 as the WHATWG URL parser
 * prints it: RFC 5952 compression, lowercase), so two spellings of one
 * address compare equal; undefined for hostnames and for the wrong family.
 */
export function normalizeIp(address: string, family?: 4 | 6): string | undefined {
  const f = isIP(address);
  if (f === 0 || (family !== undefined && f !== family)) return undefined;
  if (f === 4) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined; // zone ids ("fe80::1%eth0") and the like: not a routable private address
  }
}
