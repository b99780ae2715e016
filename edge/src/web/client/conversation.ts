import type { AgentEvent } from './event-log.js';

/** What the agent is doing, as the transceiver reports it (`agent.state`). */
export type AgentState = 'listening' | 'thinking' | 'speaking';

export interface TranscriptLine {
  role: 'user' | 'agent';
  text: string;
  /** A partial line is replaced by the next line of the same role until one is final. */
  final: boolean;
  /** Call time, ms, when the sender stamped it. */
  t?: number;
}

/** A marker between transcript lines: the caller talked over the agent. */
export interface BargeInMark {
  role: 'barge-in';
  t?: number;
  droppedFrames?: number;
}

export type ConversationItem = TranscriptLine | BargeInMark;

const MAX_ITEMS = 200;
const STATES: readonly string[] = ['listening', 'thinking', 'speaking'];

/**
 * The conversation as the page shows it, built from the agent's events: who
 * holds the turn, what was said, and how long the agent took to answer.
 * Echo-style agents send none of this; the page then stays on "listening".
 */
export class Conversation {
  state: AgentState = 'listening';
  /** The caller is speaking now (between speech.started and speech.stopped). */
  userSpeaking = false;
  /** Whether any agent.state arrived: agents that never send one are shown as just listening. */
  reportsState = false;
  /** ms from the end of each caller turn to the agent's first reply packet (`latency.turn`). */
  readonly firstReplyMs: number[] = [];
  bargeIns = 0;
  private readonly lines: ConversationItem[] = [];

  /** Applies one event; returns true when what the page shows changed. */
  apply(e: AgentEvent): boolean {
    const f = e.fields;
    switch (e.type) {
      case 'agent.state':
        if (typeof f.state !== 'string' || !STATES.includes(f.state)) return false;
        this.state = f.state as AgentState;
        this.reportsState = true;
        return true;
      case 'speech.started':
        this.userSpeaking = true;
        return true;
      case 'speech.stopped':
        this.userSpeaking = false;
        return true;
      case 'transcript':
        return this.addLine(f, e.t);
      case 'barge_in':
        this.bargeIns++;
        this.push({
          role: 'barge-in',
          ...(e.t !== undefined && { t: e.t }),
          ...(typeof f.droppedFrames === 'number' && { droppedFrames: f.droppedFrames }),
        });
        return true;
      case 'latency.turn':
        if (typeof f.totalMs !== 'number' || !Number.isFinite(f.totalMs) || f.totalMs < 0) return false;
        this.firstReplyMs.push(f.totalMs);
        return true;
      default:
        return false;
    }
  }

  private addLine(f: Record<string, unknown>, t: number | undefined): boolean {
    if (typeof f.text !== 'string' || f.text === '') return false;
    const role = f.role === 'user' ? 'user' : f.role === 'agent' ? 'agent' : undefined;
    if (!role) return false;
    const line: TranscriptLine = {
      role,
      text: f.text,
      final: f.final !== false,
      ...(t !== undefined && { t }),
    };
    const last = this.lines.at(-1);
    // An interrupted reply's text can arrive after the barge-in (agents that send it when the reply
    // ends): it belongs before the mark, which says the caller cut that reply short.
    if (role === 'agent' && last?.role === 'barge-in') {
      const before = this.lines.at(-2);
      if (before?.role === 'agent' && !before.final) this.lines[this.lines.length - 2] = line;
      else this.lines.splice(this.lines.length - 1, 0, line);
      return true;
    }
    // A partial of the same speaker is superseded by its next version.
    if (last && last.role === role && !(last as TranscriptLine).final)
      this.lines[this.lines.length - 1] = line;
    else this.push(line);
    return true;
  }

  private push(item: ConversationItem): void {
    this.lines.push(item);
    if (this.lines.length > MAX_ITEMS) this.lines.splice(0, this.lines.length - MAX_ITEMS);
  }

  /** Oldest first, as a conversation reads. */
  items(): readonly ConversationItem[] {
    return this.lines;
  }

  /** The most recent turn's first-reply time, ms. */
  get lastFirstReplyMs(): number | undefined {
    return this.firstReplyMs.at(-1);
  }

  clear(): void {
    this.state = 'listening';
    this.userSpeaking = false;
    this.reportsState = false;
    this.firstReplyMs.length = 0;
    this.bargeIns = 0;
    this.lines.length = 0;
  }
}
