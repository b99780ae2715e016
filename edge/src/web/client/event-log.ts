/** One message the agent sent on the `events` data channel, ready to show. */
export interface AgentEvent {
  /** Wall-clock time it arrived, ms. */
  at: number;
  /** The sender's own time stamp (`t`, ms since the session started), when it sent one. */
  t?: number;
  /** The message's `type` field, or `message` when it has none. */
  type: string;
  /** A one-line summary for the list. */
  summary: string;
  /** Every other field, as sent. */
  fields: Record<string, unknown>;
}

const MAX_SUMMARY = 160;
// Fields worth showing first when present, as the transceiver sends them.
const LEADING_FIELDS = ['role', 'text', 'transcript', 'state', 'reason', 'totalMs', 'ms'];

/**
 * Parses a data channel message: a JSON object as text. Anything else
 * (binary, invalid JSON, arrays, scalars) is rejected, and the log counts it.
 */
export function parseAgentEvent(data: unknown, at: number): AgentEvent | undefined {
  if (typeof data !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { type, t, ...rest } = value as Record<string, unknown>;
  return {
    at,
    ...(typeof t === 'number' && Number.isFinite(t) && { t }),
    type: typeof type === 'string' && type !== '' ? type : 'message',
    summary: summarize(rest),
    fields: rest,
  };
}

function summarize(fields: Record<string, unknown>): string {
  const keys = Object.keys(fields).sort((a, b) => rank(a) - rank(b));
  const parts = keys.map((k) => {
    const v = fields[k];
    if (k === 'text' || k === 'transcript') return typeof v === 'string' ? `“${v}”` : JSON.stringify(v);
    return `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`;
  });
  const line = parts.join(' · ');
  return line.length > MAX_SUMMARY ? `${line.slice(0, MAX_SUMMARY - 1)}…` : line;
}

function rank(key: string): number {
  const i = LEADING_FIELDS.indexOf(key);
  return i === -1 ? LEADING_FIELDS.length : i;
}

/** The newest events, bounded, and a count of messages that could not be read. */
export class EventLog {
  private readonly events: AgentEvent[] = [];
  malformed = 0;

  constructor(private readonly limit = 50) {}

  /** Returns the event when the message was usable. */
  receive(data: unknown, at: number): AgentEvent | undefined {
    const e = parseAgentEvent(data, at);
    if (!e) {
      this.malformed++;
      return undefined;
    }
    this.events.unshift(e);
    if (this.events.length > this.limit) this.events.length = this.limit;
    return e;
  }

  /** Newest first. */
  items(): readonly AgentEvent[] {
    return this.events;
  }

  clear(): void {
    this.events.length = 0;
    this.malformed = 0;
  }
}
