import type { Logger } from '@parley/shared/log.js';
import WebSocket from 'ws';
import type { ConversationItem, RealtimeSessionConfig } from '../../realtime-events/oai-events.js';
import {
  upstreamItemCreate,
  upstreamResponseCreate,
  upstreamSessionUpdate,
} from '../../realtime-events/upstream-events.js';
import type { Agent, AgentFactory, AgentOutput, UserAudio } from '../agent.js';
import {
  appendAudio,
  cancelResponse,
  interpretRealtimeEvent,
  REALTIME_RATE,
  sessionUpdate,
} from './realtime-messages.js';

export interface RealtimeAgentOptions {
  /** ws:// or wss:// endpoint, e.g. a hosted realtime model's URL with its model parameter. */
  url: string;
  /** Sent as a Bearer token; from PARLEY_REALTIME_API_KEY only. */
  apiKey?: string;
  instructions?: string;
  connectTimeoutMs?: number;
  /** Bytes the socket may hold unsent before user audio is dropped. */
  maxBufferedBytes?: number;
  log: Logger;
}

/** One WebSocket per session to a Realtime-style endpoint. */
export function realtimeAgent(opts: RealtimeAgentOptions): AgentFactory {
  return (output, ctx) => new RealtimeAgent(output, ctx.sessionId, opts);
}

class RealtimeAgent implements Agent {
  readonly name = 'realtime';
  readonly sampleRate = REALTIME_RATE;
  readonly bargeIn = true;
  readonly copiesAudio = true; // base64 of the frame, made in onAudio
  droppedFrames = 0;
  /** Non-fatal error events from the server, counted. */
  serverErrors = 0;
  private ws?: WebSocket;
  private responding = false;
  private ended = false;

  constructor(
    private readonly output: AgentOutput,
    private readonly sessionId: string,
    private readonly opts: RealtimeAgentOptions,
  ) {}

  /** Connects, waits for session.created, configures the session, waits for session.updated. */
  ready(): Promise<void> {
    const timeout = this.opts.connectTimeoutMs ?? 5_000;
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.opts.url, {
        headers: this.opts.apiKey ? { Authorization: `Bearer ${this.opts.apiKey}` } : {},
        handshakeTimeout: timeout,
      });
      this.ws = ws;
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          ws.terminate();
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(
        () => settle(new Error(`realtime agent at ${redact(this.opts.url)} not ready within ${timeout} ms`)),
        timeout,
      );
      ws.on('unexpected-response', (_req, res) =>
        settle(
          new Error(
            `realtime agent at ${redact(this.opts.url)} refused the connection: HTTP ${res.statusCode}`,
          ),
        ),
      );
      ws.on('error', (err) => {
        if (!settled)
          settle(new Error(`realtime agent at ${redact(this.opts.url)} unreachable: ${err.message}`));
        else this.fail(`realtime agent connection failed: ${err.message}`);
      });
      ws.on('close', (code, reason) => {
        if (!settled) settle(new Error(`realtime agent closed the connection during setup (${code})`));
        else this.fail(`realtime agent closed the connection (${code}${reason.length ? ` ${reason}` : ''})`);
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return this.fail('realtime agent sent a malformed message: binary frame');
        const m = interpretRealtimeEvent(data.toString());
        if (!settled) {
          if (m.kind === 'session' && m.type === 'session.created')
            this.send(sessionUpdate(this.opts.instructions));
          else if (m.kind === 'session' && m.type === 'session.updated') settle();
          else if (m.kind === 'error')
            settle(new Error(`realtime agent refused the session: ${m.code} ${m.message}`));
          return;
        }
        this.onMeaning(m);
      });
    });
  }

  onAudio(frame: UserAudio): void {
    const ws = this.ws;
    if (!ws || this.ended || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 256 * 1024)) {
      this.droppedFrames++;
      return;
    }
    this.send(appendAudio(frame.pcm));
  }

  /** The server runs its own turn detection (server_vad); ours is not needed by it. */
  onSpeech(): void {}

  // The OpenAI-Realtime front door (core/src/realtime-events) hands a Realtime client's
  // settings, response requests and conversation items to the upstream as they are.
  configure(session: RealtimeSessionConfig): void {
    this.send(upstreamSessionUpdate(session));
  }

  createResponse(response: Record<string, unknown>): void {
    this.send(upstreamResponseCreate(response));
  }

  addConversationItem(item: ConversationItem): void {
    this.send(upstreamItemCreate(item));
  }

  interrupt(): void {
    // Cancelling with no response in progress is an error on the server side; only cancel a live one.
    if (this.responding) this.send(cancelResponse());
    this.responding = false;
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.ws?.close(1000, 'session ended');
  }

  private onMeaning(m: ReturnType<typeof interpretRealtimeEvent>): void {
    if (this.ended) return;
    switch (m.kind) {
      case 'audio':
        this.output.audio(m.pcm, REALTIME_RATE);
        break;
      case 'event':
        if (m.event.type === 'response_started') this.responding = true;
        if (m.event.type === 'response_done') this.responding = false;
        this.output.event(m.event);
        break;
      case 'error':
        // Realtime error events are mostly about one request (e.g. a late cancel); the session goes on.
        this.serverErrors++;
        this.opts.log.warn(
          { session: this.sessionId, code: m.code, message: m.message },
          'realtime agent error event',
        );
        break;
      case 'malformed':
        this.fail(`realtime agent sent a malformed message: ${m.reason}`);
        break;
      default:
        break;
    }
  }

  private send(event: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(event));
  }

  private fail(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.ws?.terminate();
    this.opts.log.warn({ session: this.sessionId, reason }, 'realtime agent ended');
    this.output.end(reason);
  }
}

/** URLs may carry credentials in their query; logs and client events get only the origin and path. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the configured URL';
  }
}
