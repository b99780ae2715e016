import { z } from 'zod';
import { SUBJECT_PREFIX, safeToken } from './subjects.js';

/**
 * Subjects and payloads of the OpenAI-Realtime-compatible sideband: an edge
 * holding an application's control WebSocket reaches the transceiver that
 * owns the call. Kept apart from subjects.ts because only the Realtime front
 * door uses them.
 */

/** Request/reply: one Realtime client event for one session on this transceiver. */
export function realtimeControlSubject(transceiverId: string): string {
  return `${SUBJECT_PREFIX}.transceiver.${safeToken(transceiverId)}.realtime`;
}

/**
 * Every Realtime server event a session sends on its `oai-events` channel is
 * also published here, so any edge can relay it to a watcher without knowing
 * which transceiver holds the call. Nobody subscribed: NATS drops it for free.
 */
export function realtimeEventsSubject(sessionId: string): string {
  // Session ids are `<routeId>-<22 base64url chars>`: one subject token, but check anyway.
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(sessionId))
    throw new Error(`session id "${sessionId}" is not a subject token`);
  return `${SUBJECT_PREFIX}.realtime.${sessionId}.events`;
}

/** A Realtime event: a JSON object with a string `type`; everything else is checked by whoever acts on it. */
export const RealtimeEventObject = z.looseObject({ type: z.string().min(1).max(128) });

export const RealtimeControlRequest = z.object({
  sessionId: z.string().min(1).max(128),
  event: RealtimeEventObject,
  /**
   * The session settings a client secret carries, sent right after the call
   * is placed: held until the call's `oai-events` channel opens, and applied
   * before its session.created (as the call's initial settings).
   */
  initial: z.boolean().optional(),
});
export type RealtimeControlRequest = z.infer<typeof RealtimeControlRequest>;

export const RealtimeControlReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), code: z.enum(['not_found', 'bad_request']), message: z.string() }),
]);
export type RealtimeControlReply = z.infer<typeof RealtimeControlReply>;

/** On realtimeEventsSubject: a server event, or the call's end (the last message). */
export const RealtimeEventEnvelope = z.union([
  z.object({ event: RealtimeEventObject }),
  z.object({ ended: z.string() }),
]);
export type RealtimeEventEnvelope = z.infer<typeof RealtimeEventEnvelope>;
