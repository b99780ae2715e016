import { z } from 'zod';

/** What a transceiver says about itself on ANNOUNCE_SUBJECT. */
export const TransceiverAnnounce = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** routeIdOf(id): what routing tokens carry. */
  routeId: z.string().regex(/^[0-9a-f]{12}$/),
  cluster: z.string().min(1),
  region: z.string().min(1),
  /** Private address relays forward to. */
  address: z.string().min(1),
  /**
   * The transceiver's one private ICE UDP port: every session shares it and
   * is told apart by its ufrag (the routing token), so relays forward every
   * flow for this transceiver here. An announcement from an older
   * transceiver (portRange, no port) fails validation and is ignored.
   */
  port: z.number().int().min(1).max(65535),
  sessions: z.number().int().min(0),
  capacity: z.number().int().min(0),
  draining: z.boolean(),
  version: z.string(),
  /** Sender's clock, for debugging only: receivers age entries by their own clock. */
  sentAt: z.number(),
});
export type TransceiverAnnounce = z.infer<typeof TransceiverAnnounce>;

export const OfferRequest = z.object({
  sessionId: z.string().min(1).max(128),
  offer: z.string().min(1),
  /** The only ICE candidate the answer may carry: this region's relay. */
  relay: z.object({ ip: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  /** The relay's ICE-TCP port (RFC 6544 passive), written after the UDP candidate at a lower priority. */
  relayTcp: z.object({ ip: z.string().min(1), port: z.number().int().min(1).max(65535) }).optional(),
  /** Which agent bridge the session talks to; the transceiver's default when absent. */
  agent: z.string().optional(),
  /** Subject of the caller's JWT, for logs and per-user limits. */
  subject: z.string().optional(),
});
export type OfferRequest = z.infer<typeof OfferRequest>;

export const ErrorCode = z.enum([
  'bad_offer',
  'no_capacity',
  'draining',
  'not_found',
  'internal',
  /** An ICE restart for a session whose first ICE/DTLS setup has not completed. */
  'not_connected',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const Failure = z.object({ ok: z.literal(false), code: ErrorCode, message: z.string() });

export const OfferReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), sessionId: z.string(), answer: z.string() }),
  Failure,
]);
export type OfferReply = z.infer<typeof OfferReply>;

export const CloseRequest = z.object({ sessionId: z.string().min(1).max(128) });
export type CloseRequest = z.infer<typeof CloseRequest>;

export const CloseReply = z.discriminatedUnion('ok', [z.object({ ok: z.literal(true) }), Failure]);
export type CloseReply = z.infer<typeof CloseReply>;

/** The client's new ICE credentials (from its PATCH sdpfrag); `mid` names its media section. */
export const IceRestartRequest = z.object({
  sessionId: z.string().min(1).max(128),
  ufrag: z.string().regex(/^[A-Za-z0-9+/]{4,256}$/),
  pwd: z.string().regex(/^[A-Za-z0-9+/]{22,256}$/),
  mid: z.string().max(64).optional(),
});
export type IceRestartRequest = z.infer<typeof IceRestartRequest>;

/** The transceiver's answer: its sdpfrag (new ufrag = a new routing token, new password). */
export const IceRestartReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), sdpfrag: z.string() }),
  Failure,
]);
export type IceRestartReply = z.infer<typeof IceRestartReply>;

export const SessionState = z.enum(['created', 'connecting', 'connected', 'closed']);
export type SessionState = z.infer<typeof SessionState>;

export const SessionInfoReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    sessionId: z.string(),
    state: SessionState,
    port: z.number().int(),
    remote: z.string().optional(),
    packetsIn: z.number().int(),
    packetsOut: z.number().int(),
  }),
  Failure,
]);
export type SessionInfoReply = z.infer<typeof SessionInfoReply>;

/** On SESSION_REVOKED_SUBJECT: the ended session's ICE ufrag, i.e. its routing token (relays verify it). */
export const SessionRevoked = z.object({
  token: z.string().min(1).max(100),
  sessionId: z.string().max(128).optional(),
  /**
   * Set when the session itself ended (its close reason, e.g. `deleted`,
   * `consent_lost`); absent when only this token retired (an ICE restart
   * replaced it) and the session lives on. Edges forget ended sessions by it.
   */
  ended: z.string().max(64).optional(),
});
export type SessionRevoked = z.infer<typeof SessionRevoked>;
