/**
 * The page's side of `GET <session URL>/events`: the edge sends
 * `session.ended` there even when the transceiver (or its whole core region)
 * died and the data channel went silent. fetch() rather than EventSource,
 * because EventSource cannot send the Authorization header.
 */

/** The `session.ended` JSON, as on the data channel (`t`: ms since the edge placed the session). */
export interface SessionEnded {
  type: 'session.ended';
  reason: string;
  t: number;
}

/** How long the agent's audio must have been silent before the page takes an edge's `transceiver_lost` as the end. */
export const LOST_MEDIA_SILENCE_MS = 1_000;

/**
 * Whether an edge's session.ended ends this call now. The edge says
 * `transceiver_lost` when the transceiver leaves its view of NATS discovery,
 * and a dead core region looks the same there as a cut gateway between
 * regions. Media never crosses NATS, so the call is the tie-breaker: while
 * the agent's audio still arrives over a connected path, the notice is news
 * about the mesh, not about this call. Every other reason (deleted,
 * shutdown, consent_lost, ...) comes from the transceiver itself and ends it.
 */
export function noticeEndsCall(
  reason: string,
  path: { connected: boolean; silentMs: number | undefined },
): boolean {
  if (reason !== 'transceiver_lost') return true;
  return !path.connected || path.silentMs === undefined || path.silentMs >= LOST_MEDIA_SILENCE_MS;
}

/**
 * Takes the complete events (blocks ended by a blank line) out of `buffer`
 * and returns the session.ended payloads among them plus what is left.
 * Pure, for the unit test; comments and other events are skipped.
 */
export function takeSessionEnded(buffer: string): { ended: SessionEnded[]; rest: string } {
  const text = buffer.replace(/\r\n?/g, '\n');
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  const ended: SessionEnded[] = [];
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (event !== 'session.ended' || data.length === 0) continue;
    try {
      const v = JSON.parse(data.join('\n')) as Partial<SessionEnded>;
      if (v.type === 'session.ended' && typeof v.reason === 'string')
        ended.push({ type: v.type, reason: v.reason, t: typeof v.t === 'number' ? v.t : 0 });
    } catch {
      // A garbled event says nothing; the stream stays open.
    }
  }
  return { ended, rest };
}

/**
 * How one watch ended: `ended` (onEnded was called), `refused` (the edge
 * answered with an error: no such route or session; watching again will not
 * help), or `dropped` (network error or the stream closed: worth another try).
 */
export type WatchOutcome = 'ended' | 'refused' | 'dropped';

/**
 * Watches the session's event stream until `signal` aborts, the stream
 * ends, or session.ended arrives (then `onEnded`, once). An edge without the
 * route (405) or a network error is silent: the data channel still reports
 * ends the transceiver can announce itself.
 */
export async function watchSessionEnd(
  opts: { fetch: typeof fetch; token?: string },
  sessionUrl: string,
  onEnded: (e: SessionEnded) => void,
  signal: AbortSignal,
): Promise<WatchOutcome> {
  try {
    const res = await opts.fetch(`${sessionUrl}/events`, {
      headers: {
        Accept: 'text/event-stream',
        ...(opts.token && { Authorization: `Bearer ${opts.token}` }),
      },
      cache: 'no-store',
      signal,
    });
    if (!res.ok || !res.body) return 'refused';
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'dropped';
      const taken = takeSessionEnded(buffer + decoder.decode(value, { stream: true }));
      // Bounded: an edge that never ends an event cannot grow the buffer without limit.
      buffer = taken.rest.length > 65_536 ? '' : taken.rest;
      const first = taken.ended[0];
      if (first) {
        void reader.cancel().catch(() => undefined);
        onEnded(first);
        return 'ended';
      }
    }
  } catch {
    // Aborted by hang-up, or the network went away.
    return 'dropped';
  }
}

/**
 * Keeps watching while the call lives: a stream dropped by a network change
 * (the call itself survives it with an ICE restart) is opened again after
 * `retryMs`, at most `maxTries` times in all.
 */
export async function watchSessionEndWhileLive(
  opts: { fetch: typeof fetch; token?: string },
  sessionUrl: string,
  onEnded: (e: SessionEnded) => void,
  signal: AbortSignal,
  retry: { retryMs: number; maxTries: number } = { retryMs: 2_000, maxTries: 100 },
): Promise<WatchOutcome> {
  let outcome: WatchOutcome = 'dropped';
  for (let i = 0; i < retry.maxTries && !signal.aborted; i++) {
    outcome = await watchSessionEnd(opts, sessionUrl, onEnded, signal);
    if (outcome !== 'dropped' || signal.aborted) return outcome;
    await new Promise((r) => setTimeout(r, retry.retryMs));
  }
  return outcome;
}
