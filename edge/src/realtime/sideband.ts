import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { routeIdOfSession } from '@parley/shared/discovery/session-id.js';
import type { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import type { Logger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import {
  RealtimeControlReply,
  type RealtimeControlRequest,
  RealtimeEventEnvelope,
  RealtimeEventObject,
  realtimeControlSubject,
  realtimeEventsSubject,
} from '@parley/shared/nats/realtime-subjects.js';
import { SessionInfoReply } from '@parley/shared/nats/schemas.js';
import { sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { type WebSocket, WebSocketServer } from 'ws';
import { problemBody, statusTitle } from '../signaling/problem.js';
import type { ClientSecrets } from './client-secrets.js';
import { REALTIME_PATH } from './realtime-routes.js';

export interface SidebandDeps {
  nc: NatsConnection;
  table: TransceiverTable;
  secrets: ClientSecrets;
  log: Logger;
  requestTimeoutMs?: number;
}

/** A client event larger than this closes the socket (1009); a data-channel message is capped alike. */
const MAX_MESSAGE_BYTES = 256 * 1024;
/** Unanswered control requests per socket; past this, client events are refused with an error event. */
const MAX_IN_FLIGHT = 32;

/**
 * The sideband control WebSocket, `GET /v1/realtime?call_id=…` with the
 * application key (as with OpenAI's): the application's server watches a
 * live call's server events and sends client events (session.update,
 * conversation.item.create with a tool's output, response.create/cancel).
 * The edge holding the socket finds the owning transceiver from the call id
 * (its route id), sends client events to it by NATS request/reply, and
 * relays the session's events from NATS. The socket closes when the call ends.
 */
export class RealtimeSideband {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly timeoutMs: number;
  private attached?: Server;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    void this.upgrade(req, socket, head);

  constructor(private readonly deps: SidebandDeps) {
    this.timeoutMs = deps.requestTimeoutMs ?? 2_000;
  }

  get connections(): number {
    return this.wss.clients.size;
  }

  attach(server: Server): void {
    this.attached = server;
    server.on('upgrade', this.onUpgrade);
  }

  close(): void {
    this.attached?.off('upgrade', this.onUpgrade);
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://edge');
    if (url.pathname !== REALTIME_PATH) return refuse(socket, 404, `no WebSocket at ${url.pathname}`);
    if (!this.deps.secrets.appKey(req.headers.authorization))
      return refuse(socket, 401, 'the sideband needs the application API key', {
        'WWW-Authenticate': 'Bearer realm="parley"',
      });
    const callId = url.searchParams.get('call_id') ?? '';
    const routeId = routeIdOfSession(callId);
    const transceiver = routeId === undefined ? undefined : this.deps.table.byRouteId(routeId);
    if (!transceiver) return refuse(socket, 404, 'no such call');
    // A call id that names a live transceiver may still be over (or never have been): ask it.
    try {
      const msg = await this.deps.nc.request(
        sessionStateSubject(transceiver.id),
        encodeJson({ sessionId: callId }),
        {
          timeout: this.timeoutMs,
        },
      );
      const info = decodeJson(SessionInfoReply, msg.data);
      if (!info.ok || info.state === 'closed') return refuse(socket, 404, 'no such call');
    } catch (err) {
      this.deps.log.warn(
        { call: callId, err: (err as Error).message },
        'sideband: transceiver did not answer',
      );
      return refuse(socket, 503, 'the call’s transceiver did not answer', { 'Retry-After': '2' });
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, callId, transceiver.id));
  }

  private serve(ws: WebSocket, callId: string, transceiverId: string): void {
    const { nc, log } = this.deps;
    let inFlight = 0;
    let sub: Subscription | undefined;
    try {
      sub = nc.subscribe(realtimeEventsSubject(callId), {
        callback: (_err, msg) => {
          let env: RealtimeEventEnvelope;
          try {
            env = decodeJson(RealtimeEventEnvelope, msg.data);
          } catch {
            return;
          }
          if ('ended' in env) ws.close(1000, 'call ended');
          else if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(env.event));
        },
      });
    } catch (err) {
      log.warn({ call: callId, err: (err as Error).message }, 'sideband: cannot subscribe');
      ws.close(1011, 'cannot watch this call');
      return;
    }
    log.info({ call: callId, transceiver: transceiverId }, 'sideband connected');
    ws.on('close', () => {
      sub?.unsubscribe();
      log.info({ call: callId }, 'sideband closed');
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return sendError(ws, 'invalid_json', 'send client events as text frames');
      let event: unknown;
      try {
        event = JSON.parse(data.toString());
      } catch {
        return sendError(ws, 'invalid_json', 'the event is not valid JSON');
      }
      const parsed = RealtimeEventObject.safeParse(event);
      if (!parsed.success)
        return sendError(ws, 'missing_required_parameter', "an event is a JSON object with a string 'type'");
      if (inFlight >= MAX_IN_FLIGHT) return sendError(ws, 'rate_limit_exceeded', 'too many events in flight');
      inFlight++;
      const body: RealtimeControlRequest = { sessionId: callId, event: parsed.data };
      // The transceiver answers with events on the session's subject; the reply only says it got there.
      nc.request(realtimeControlSubject(transceiverId), encodeJson(body), { timeout: this.timeoutMs })
        .then((msg) => {
          const reply = decodeJson(RealtimeControlReply, msg.data);
          if (!reply.ok && reply.code === 'not_found') ws.close(1000, 'call ended');
          else if (!reply.ok) sendError(ws, 'invalid_value', reply.message);
        })
        .catch((err: Error) => {
          log.warn({ call: callId, err: err.message }, 'sideband: control request failed');
          sendError(ws, 'server_error', 'the call’s transceiver did not answer');
        })
        .finally(() => inFlight--);
    });
  }
}

let localEvents = 0;

/** An error event made here, for client events that never reached the transceiver. */
function sendError(ws: WebSocket, code: string, message: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(
    JSON.stringify({
      type: 'error',
      event_id: `event_sideband_${++localEvents}`,
      error: {
        type: code === 'server_error' ? 'server_error' : 'invalid_request_error',
        code,
        message,
        param: null,
        event_id: null,
      },
    }),
  );
}

/** Answers an upgrade request with a problem+json response and closes the socket. */
function refuse(socket: Duplex, status: number, detail: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(problemBody(status, { detail }));
  const lines = [
    `HTTP/1.1 ${status} ${statusTitle(status)}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
