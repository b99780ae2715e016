import type { IncomingMessage } from 'node:http';
import type { Logger } from '@parley/shared/log.js';
import { WebSocket, WebSocketServer } from 'ws';
import { VoiceActivityDetector } from '../../media/vad.js';
import { decodePcm, REALTIME_RATE } from '../realtime/realtime-messages.js';
import type { ReferenceServer } from './grpc-reference-server.js';
import { type ResponderOptions, TurnResponder } from './turn-responder.js';

const FRAME = REALTIME_RATE / 50; // 20 ms

/**
 * A local stand-in for a hosted realtime model, implementing the subset of
 * the Realtime WebSocket protocol the bridge uses: session.created/update,
 * input_audio_buffer.append with server-side VAD (speech_started/stopped),
 * a response per user turn (response.created, output audio and transcript
 * deltas, response.done) and response.cancel. With `apiKey`, connections
 * without `Authorization: Bearer <key>` get HTTP 401.
 */
export async function startRealtimeReferenceServer(opts: {
  host?: string;
  port?: number;
  apiKey?: string;
  log: Logger;
  responder?: ResponderOptions;
}): Promise<ReferenceServer & { url: string }> {
  const wss = new WebSocketServer({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) =>
      !opts.apiKey || info.req.headers.authorization === `Bearer ${opts.apiKey}`
        ? done(true)
        : done(false, 401),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  wss.on('connection', (ws) => serveSession(ws, opts));
  const addr = wss.address() as { port: number; address: string };
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    port: addr.port,
    url: `ws://${host}:${addr.port}/v1/realtime`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

function serveSession(ws: WebSocket, opts: { log: Logger; responder?: ResponderOptions }): void {
  let seq = 0;
  const id = (p: string) => `${p}_${++seq}`;
  const send = (e: object) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(e));
  const vad = new VoiceActivityDetector();
  let pending = new Int16Array(0);
  let heardMs = 0;
  let itemId = '';
  const responder = new TurnResponder(
    {
      audio: (pcm) =>
        send({
          type: 'response.output_audio.delta',
          item_id: itemId,
          delta: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64'),
        }),
      responseStarted: (rid) => {
        itemId = id('item');
        send({ type: 'response.created', response: { id: rid, status: 'in_progress' } });
      },
      responseDone: (rid, cancelled) => {
        send({ type: 'response.output_audio.done', item_id: itemId });
        send({ type: 'response.done', response: { id: rid, status: cancelled ? 'cancelled' : 'completed' } });
      },
      transcript: (role, text) =>
        role === 'user'
          ? send({
              type: 'conversation.item.input_audio_transcription.completed',
              item_id: id('item'),
              transcript: text,
            })
          : send({ type: 'response.output_audio_transcript.done', item_id: itemId, transcript: text }),
    },
    { sampleRate: REALTIME_RATE, ...opts.responder },
  );
  send({ type: 'session.created', session: { id: id('sess'), object: 'realtime.session' } });

  ws.on('message', (data) => {
    let e: { type?: string; audio?: unknown; session?: object };
    try {
      e = JSON.parse(data.toString());
    } catch {
      send({
        type: 'error',
        error: { type: 'invalid_request_error', code: 'invalid_json', message: 'not JSON' },
      });
      return;
    }
    switch (e.type) {
      case 'session.update':
        send({ type: 'session.updated', session: e.session ?? {} });
        break;
      case 'input_audio_buffer.append': {
        const pcm = decodePcm(e.audio);
        if (typeof pcm === 'string') {
          send({
            type: 'error',
            error: { type: 'invalid_request_error', code: 'invalid_audio', message: pcm },
          });
          return;
        }
        const joined = new Int16Array(pending.length + pcm.length);
        joined.set(pending);
        joined.set(pcm, pending.length);
        let at = 0;
        for (; at + FRAME <= joined.length; at += FRAME) {
          heardMs += 20;
          const ev = vad.process(joined.subarray(at, at + FRAME), heardMs);
          if (ev?.type === 'speech_started')
            send({ type: 'input_audio_buffer.speech_started', audio_start_ms: heardMs });
          if (vad.speaking) responder.userAudio(FRAME, REALTIME_RATE);
          if (ev?.type === 'speech_stopped') {
            send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: heardMs });
            send({ type: 'input_audio_buffer.committed', item_id: id('item') });
            responder.turnEnded();
          }
        }
        pending = joined.slice(at);
        break;
      }
      case 'response.cancel':
        if (responder.responding) responder.interrupt();
        else
          send({
            type: 'error',
            error: {
              type: 'invalid_request_error',
              code: 'response_cancel_not_active',
              message: 'no active response',
            },
          });
        break;
      default:
        break;
    }
  });
  ws.on('close', () => responder.close());
  ws.on('error', (err) => opts.log.debug({ err: err.message }, 'realtime reference: socket error'));
}
