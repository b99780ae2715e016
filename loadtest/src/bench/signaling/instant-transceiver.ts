import { createLogger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { connectNats, type NatsConnection } from '@parley/shared/nats/connect.js';
import { CloseRequest, OfferRequest, type TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import {
  ANNOUNCE_SUBJECT,
  closeSubject,
  DISCOVER_SUBJECT,
  offerSubject,
} from '@parley/shared/nats/subjects.js';
import { routeIdOf } from '@parley/shared/token/routing-token.js';

/** A minimal valid answer: the edge passes it through without looking inside. */
const ANSWER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

/**
 * A transceiver that answers every offer at once over the real NATS
 * protocol, so the signaling bench measures the edge's HTTP + NATS path
 * and nothing of WebRTC.
 */
export class InstantTransceiver {
  offers = 0;
  closes = 0;
  private nc?: NatsConnection;
  private timer?: NodeJS.Timeout;

  async start(natsUrl: string, id: string, cluster: string): Promise<void> {
    const nc = await connectNats([natsUrl], `bench-instant-${id}`, createLogger('bench', 'silent'));
    this.nc = nc;
    const announce = () => {
      const a: TransceiverAnnounce = {
        id,
        routeId: routeIdOf(id),
        cluster,
        region: cluster,
        address: '127.0.0.1',
        port: 40_000,
        sessions: 0,
        capacity: 1_000_000,
        draining: false,
        version: 'bench-instant',
        sentAt: Date.now(),
      };
      nc.publish(ANNOUNCE_SUBJECT, encodeJson(a));
    };
    nc.subscribe(offerSubject(id), {
      callback: (_e, msg) => {
        this.offers++;
        try {
          const { sessionId } = decodeJson(OfferRequest, msg.data);
          msg.respond(encodeJson({ ok: true, sessionId, answer: ANSWER }));
        } catch (e) {
          msg.respond(encodeJson({ ok: false, code: 'bad_offer', message: (e as Error).message }));
        }
      },
    });
    nc.subscribe(closeSubject(id), {
      callback: (_e, msg) => {
        this.closes++;
        decodeJson(CloseRequest, msg.data);
        msg.respond(encodeJson({ ok: true }));
      },
    });
    nc.subscribe(DISCOVER_SUBJECT, { callback: announce });
    this.timer = setInterval(announce, 1_000);
    announce();
    await nc.flush();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.nc?.close();
  }
}
