/**
 * The client side of `GET <session URL>/events` (server-sent events): the
 * edge says `session.ended` there even when the session's transceiver, or
 * its whole core region, died and cannot say it on the data channel.
 */

/** Same JSON as the data channel's `session.ended`; `t` is ms since the edge placed the session. */
export interface SessionEndedNotice {
  type: 'session.ended';
  reason: string;
  t: number;
}

/** How long the echoes must have stopped before `transceiver_lost` ends a call. */
export const LOST_MEDIA_SILENCE_MS = 1_000;

/**
 * Whether the edge's notice ends the call, given ms since the last echo
 * (NaN: none yet). The edge says `transceiver_lost` when the transceiver
 * leaves its view of NATS discovery, which a cut gateway between regions
 * looks like too; media does not cross NATS, so while echoes still arrive
 * the call goes on. Other reasons come from the transceiver and end it.
 */
export function noticeEndsCall(reason: string, msSinceLastEcho: number): boolean {
  return reason !== 'transceiver_lost' || !(msSinceLastEcho < LOST_MEDIA_SILENCE_MS);
}

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Incremental text/event-stream parser (the WHATWG HTML "event stream
 * interpretation" subset we need: `event`, `data`, comments, CRLF/LF/CR line
 * ends). Pure: feed it chunks, it returns the events they completed.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // A lone CR at the end may be the first half of a CRLF: wait for more.
      if (!m || (m[0] === '\r' && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    // Bounded: a peer that never ends a line cannot grow this without limit.
    if (this.buffer.length > 64 * 1024) this.buffer = '';
    return out;
  }
}

export interface SessionEventsWatch {
  /** Resolves with the end notice, or undefined when the stream closed or was stopped without one. */
  readonly ended: Promise<SessionEndedNotice | undefined>;
  /** HTTP status of the stream request (0 until it answered or on a network error). */
  readonly status: () => number;
  stop(): void;
}

/**
 * Opens the session's event stream and resolves `ended` on `session.ended`.
 * An edge without the route (404/405) or a network error just resolves
 * undefined: the data channel remains the other source of the news.
 */
export function watchSessionEvents(sessionUrl: string, token?: string): SessionEventsWatch {
  const abort = new AbortController();
  let status = 0;
  const ended = (async (): Promise<SessionEndedNotice | undefined> => {
    try {
      const res = await fetch(`${sessionUrl.replace(/\/$/, '')}/events`, {
        headers: { accept: 'text/event-stream', ...(token && { authorization: `Bearer ${token}` }) },
        signal: abort.signal,
      });
      status = res.status;
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return undefined;
      }
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const e of parser.push(decoder.decode(value, { stream: true }))) {
          if (e.event !== 'session.ended') continue;
          // Cancelling the body closes the stream: nothing more will come.
          void reader.cancel().catch(() => undefined);
          return JSON.parse(e.data) as SessionEndedNotice;
        }
      }
      return undefined;
    } catch {
      return undefined;
    }
  })();
  return { ended, status: () => status, stop: () => abort.abort() };
}
