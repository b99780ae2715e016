import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '@parley/shared/time/clock.js';
import { type FlowCacheStore, liveToken } from './flow-cache.js';

/**
 * The relay's flow cache on local disk: the same entries as the region's
 * JetStream KV bucket (client address → routing token), in an append-only
 * file, so a relay restarted in the same place (a crashed process, a
 * container restarted in its pod with an emptyDir) finds its calls' flows
 * the moment it listens, before it has joined NATS and opened the bucket
 * (~35-45 ms of a restart on the dev VM). The KV stays the shared copy for
 * siblings and replacements elsewhere.
 *
 * Nothing in it is trusted: a recovered flow's token is verified (signature,
 * expiry, revocation) exactly as a first STUN packet's would be. Entries
 * older than the cache's TTL are ignored, as the bucket's expire.
 *
 * Format, one line per change: `+ <client> <putAtMs> <token>` or
 * `- <client>`. Opening it replays it, then rewrites it with only the live
 * entries (a temporary file renamed over it); it is rewritten the same way
 * whenever it holds more than twice the live entries (plus a margin).
 */

export interface JournalEntry {
  token: string;
  at: number;
}

/** The entries a journal's text leaves, newest change winning, those older than ttlMs dropped. */
export function replayFlowJournal(
  text: string,
  nowMs: number,
  ttlMs: number,
): { entries: Map<string, JournalEntry>; malformed: number } {
  const entries = new Map<string, JournalEntry>();
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    if (f[0] === '+' && f.length === 4 && f[1] && f[3]) {
      const at = Number(f[2]);
      if (!Number.isFinite(at)) {
        malformed++;
        continue;
      }
      entries.delete(f[1]);
      entries.set(f[1], { token: f[3], at });
    } else if (f[0] === '-' && f.length === 2 && f[1]) {
      entries.delete(f[1]);
    } else {
      // A torn last line (a crash mid-write) or a foreign file: skipped, counted.
      malformed++;
    }
  }
  for (const [client, e] of entries) if (nowMs - e.at > ttlMs) entries.delete(client);
  return { entries, malformed };
}

export function journalPutLine(client: string, token: string, atMs: number): string {
  return `+ ${client} ${Math.round(atMs)} ${token}\n`;
}

export function journalDeleteLine(client: string): string {
  return `- ${client}\n`;
}

/** Clients and tokens are single words: a space or newline in one would corrupt the journal. */
const WORD = /^[^\s]+$/;

export class FlowJournalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlowJournalError';
  }
}

/** Lines beyond the live entries before a rewrite: twice the live count plus this. */
const COMPACT_SLACK_LINES = 1_024;

export class JournalFlowCacheStore implements FlowCacheStore {
  /** Lines skipped as malformed when the journal was opened. */
  readonly malformedAtOpen: number;
  /** Entries recovered when the journal was opened. */
  readonly recoveredAtOpen: number;
  private readonly entries: Map<string, JournalEntry>;
  private fd: number;
  private lines: number;
  private closed = false;
  /** Lines queued this event-loop turn (append), and the promise of their write. */
  private pending = '';
  private pendingLines = 0;
  private written: Promise<void> | undefined;

  /**
   * Opens (or creates) the journal at `path`, keeping the entries younger
   * than ttlMs. Throws a FlowJournalError when the file cannot be read or
   * written: the caller runs without it.
   */
  constructor(
    private readonly path: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new FlowJournalError(`cannot read the flow journal ${path}: ${(err as Error).message}`, {
          cause: err,
        });
    }
    const { entries, malformed } = replayFlowJournal(text, clock(), ttlMs);
    this.entries = entries;
    this.malformedAtOpen = malformed;
    this.recoveredAtOpen = entries.size;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.fd = this.rewrite();
    } catch (err) {
      throw new FlowJournalError(`cannot write the flow journal ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.lines = entries.size;
  }

  /** The token for `client` if its entry is live; synchronous (a restarted relay asks before NATS is up). */
  peek(client: string): string | undefined {
    return liveToken(this.entries, client, this.clock(), this.ttlMs);
  }

  async put(client: string, token: string): Promise<void> {
    if (this.closed || !WORD.test(client) || !WORD.test(token)) return;
    const at = this.clock();
    this.entries.delete(client);
    this.entries.set(client, { token, at });
    return this.append(journalPutLine(client, token, at));
  }

  touch(client: string, token: string): void {
    void this.put(client, token);
  }

  async delete(client: string): Promise<void> {
    if (this.closed || !this.entries.delete(client)) return;
    return this.append(journalDeleteLine(client));
  }

  async get(client: string): Promise<string | undefined> {
    return this.peek(client);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  /**
   * Queues a line; the lines of one event-loop turn go out in one write.
   * Flows open in bursts (and refreshes come a few per turn), and a write
   * per line there would stall forwarding for milliseconds.
   * Resolves once its line is written.
   */
  private append(line: string): Promise<void> {
    this.pending += line;
    this.pendingLines++;
    this.written ??= new Promise((resolve) => {
      setImmediate(() => {
        this.flush();
        resolve();
      });
    });
    return this.written;
  }

  private flush(): void {
    this.written = undefined;
    if (this.pending === '' || this.closed) return;
    writeSync(this.fd, this.pending);
    this.pending = '';
    this.lines += this.pendingLines;
    this.pendingLines = 0;
    if (this.lines > 2 * this.entries.size + COMPACT_SLACK_LINES) {
      closeSync(this.fd);
      this.fd = this.rewrite();
      this.lines = this.entries.size;
    }
  }

  /** Writes the live entries to a temporary file, renames it over the journal, and opens it for appending. */
  private rewrite(): number {
    const now = this.clock();
    let text = '';
    for (const [client, e] of this.entries) {
      if (now - e.at > this.ttlMs) this.entries.delete(client);
      else text += journalPutLine(client, e.token, e.at);
    }
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, this.path);
    return openSync(this.path, 'a', 0o600);
  }
}
