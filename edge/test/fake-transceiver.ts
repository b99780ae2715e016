import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { CloseRequest, OfferRequest, type TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import {
  ANNOUNCE_SUBJECT,
  closeSubject,
  DISCOVER_SUBJECT,
  offerSubject,
} from '@parley/shared/nats/subjects.js';
import { routeIdOf } from '@parley/shared/token/routing-token.js';

/** What the fake does with one offer: a reply object, raw bytes, or silence (to force a timeout). */
export type OfferBehaviour =
  | { kind: 'answer'; answer?: string }
  | {
      kind: 'fail';
      code: 'bad_offer' | 'no_capacity' | 'draining' | 'not_found' | 'internal';
      message?: string;
    }
  | { kind: 'raw'; data: Uint8Array }
  | { kind: 'silent' };

export const FAKE_ANSWER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

/**
 * A transceiver as seen over NATS, and nothing more: it announces itself,
 * answers discovery, and replies to offer and close requests as the test
 * tells it to. Talks to a real nats-server on its own connection.
 */
export class FakeTransceiver {
  readonly offers: { request: OfferRequest; headers: Record<string, string> }[] = [];
  readonly closes: string[] = [];
  readonly sessions = new Set<string>();
  onOffer: (req: OfferRequest) => OfferBehaviour = () => ({ kind: 'answer' });
  state: Partial<TransceiverAnnounce> = {};

  private constructor(
    readonly id: string,
    readonly nc: NatsConnection,
    private readonly base: Partial<TransceiverAnnounce>,
  ) {}

  static async start(
    natsUrl: string,
    id: string,
    base: Partial<TransceiverAnnounce> = {},
  ): Promise<FakeTransceiver> {
    const nc = await connect({ servers: natsUrl });
    const t = new FakeTransceiver(id, nc, base);
    nc.subscribe(offerSubject(id), { callback: (_e, msg) => t.handleOffer(msg) });
    nc.subscribe(closeSubject(id), { callback: (_e, msg) => t.handleClose(msg) });
    nc.subscribe(DISCOVER_SUBJECT, { callback: () => t.announce() });
    await nc.flush();
    return t;
  }

  get routeId(): string {
    return routeIdOf(this.id);
  }

  info(): TransceiverAnnounce {
    return {
      id: this.id,
      routeId: this.routeId,
      cluster: 'local',
      region: 'local',
      address: '127.0.0.1',
      port: 40000,
      sessions: this.sessions.size,
      capacity: 10,
      draining: false,
      version: 'fake',
      sentAt: Date.now(),
      ...this.base,
      ...this.state,
    };
  }

  announce(): void {
    this.nc.publish(ANNOUNCE_SUBJECT, encodeJson(this.info()));
  }

  async stop(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }

  private handleOffer(msg: Msg): void {
    const request = decodeJson(OfferRequest, msg.data);
    const headers: Record<string, string> = {};
    for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers?.get(key) ?? '';
    this.offers.push({ request, headers });
    const b = this.onOffer(request);
    switch (b.kind) {
      case 'answer':
        this.sessions.add(request.sessionId);
        msg.respond(encodeJson({ ok: true, sessionId: request.sessionId, answer: b.answer ?? FAKE_ANSWER }));
        return;
      case 'fail':
        msg.respond(encodeJson({ ok: false, code: b.code, message: b.message ?? b.code }));
        return;
      case 'raw':
        msg.respond(b.data);
        return;
      case 'silent':
        return;
    }
  }

  private handleClose(msg: Msg): void {
    const { sessionId } = decodeJson(CloseRequest, msg.data);
    this.closes.push(sessionId);
    const known = this.sessions.delete(sessionId);
    msg.respond(
      encodeJson(known ? { ok: true } : { ok: false, code: 'not_found', message: 'no such session' }),
    );
  }
}

/** Polls until `check` stops throwing, for effects that cross NATS. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
