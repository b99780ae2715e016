import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { CloseRequest, IceRestartRequest, OfferRequest } from '@parley/shared/nats/schemas.js';
import {
  closeSubject,
  iceRestartSubject,
  offerSubject,
  sessionStateSubject,
} from '@parley/shared/nats/subjects.js';
import { withServerSpan } from '@parley/shared/telemetry/nats-trace.js';
import type { SessionManager } from '../session/session-manager.js';

/**
 * Answers the edge's requests for this transceiver: offers, closes and
 * session lookups. Invalid requests get a `bad_offer` reply, never silence,
 * so the edge can fail fast instead of waiting for its timeout.
 */
export function serveSessions(
  nc: NatsConnection,
  id: string,
  sessions: SessionManager,
  log: Logger,
): () => void {
  const subs: Subscription[] = [
    nc.subscribe(offerSubject(id), {
      queue: id,
      callback: (_err, msg) => void handleOffer(msg),
    }),
    nc.subscribe(closeSubject(id), {
      callback: (_err, msg) => void handleClose(msg),
    }),
    nc.subscribe(iceRestartSubject(id), {
      callback: (_err, msg) => {
        try {
          msg.respond(encodeJson(sessions.restartIce(decodeJson(IceRestartRequest, msg.data))));
        } catch (e) {
          msg.respond(encodeJson({ ok: false, code: 'bad_offer', message: (e as Error).message }));
        }
      },
    }),
    nc.subscribe(sessionStateSubject(id), {
      callback: (_err, msg) => {
        try {
          const { sessionId } = decodeJson(CloseRequest, msg.data);
          msg.respond(encodeJson(sessions.info(sessionId)));
        } catch (e) {
          msg.respond(encodeJson({ ok: false, code: 'bad_offer', message: (e as Error).message }));
        }
      },
    }),
  ];

  async function handleOffer(msg: Msg): Promise<void> {
    let req: OfferRequest;
    try {
      req = decodeJson(OfferRequest, msg.data);
    } catch (e) {
      msg.respond(encodeJson({ ok: false, code: 'bad_offer', message: (e as Error).message }));
      return;
    }
    // Continues the edge's trace: signaling request → NATS request → answer.
    const reply = await withServerSpan('transceiver.offer', msg.headers, async (span) => {
      span.setAttribute('parley.session_id', req.sessionId);
      const r = await sessions.create(req);
      if (!r.ok) span.setAttribute('parley.error', r.code);
      return r;
    });
    msg.respond(encodeJson(reply));
  }

  async function handleClose(msg: Msg): Promise<void> {
    try {
      const { sessionId } = decodeJson(CloseRequest, msg.data);
      msg.respond(encodeJson(await sessions.close(sessionId)));
    } catch (e) {
      log.debug({ err: (e as Error).message }, 'bad close request');
      msg.respond(encodeJson({ ok: false, code: 'bad_offer', message: (e as Error).message }));
    }
  }

  return () => {
    for (const s of subs) s.unsubscribe();
  };
}
