import type { QualitySample } from './call-stats.js';
import type { Conversation, ConversationItem } from './conversation.js';
import type { EventLog } from './event-log.js';
import type { FailureMessage } from './failures.js';
import type { Plot } from './rtt-history.js';
import type { TokenOrigin } from './token-source.js';
import { axisTicks, type WaterfallRow, waterfallScale } from './waterfall.js';

/** What the page shows; `body[data-call-state]` carries it too, for styling and tests. */
export type PageState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'ending' | 'failed';

export interface Elements {
  body: HTMLElement;
  talk: HTMLButtonElement;
  talkLabel: HTMLElement;
  pill: HTMLElement;
  status: HTMLElement;
  error: HTMLElement;
  errorTitle: HTMLElement;
  errorHint: HTMLElement;
  relay: HTMLElement;
  agent: HTMLElement;
  session: HTMLElement;
  audio: HTMLAudioElement;
  waterfall: HTMLElement;
  rttPath: SVGPathElement;
  rttMax: HTMLElement;
  rtt: HTMLElement;
  jitter: HTMLElement;
  received: HTMLElement;
  lost: HTMLElement;
  remote: HTMLElement;
  events: HTMLElement;
  eventsEmpty: HTMLElement;
  eventsMalformed: HTMLElement;
  tokenForm: HTMLFormElement;
  tokenInput: HTMLInputElement;
  tokenClear: HTMLButtonElement;
  tokenOrigin: HTMLElement;
  agentPicker: HTMLSelectElement;
  agentState: HTMLElement;
  agentStateLabel: HTMLElement;
  agentStateHint: HTMLElement;
  micLevel: HTMLElement;
  micMeter: HTMLMeterElement;
  transcript: HTMLElement;
  conversationEmpty: HTMLElement;
  firstReply: HTMLElement;
  bargeIns: HTMLElement;
  waterfallAxis: HTMLElement;
  replyMs: HTMLElement;
}

export function findElements(doc: Document): Elements {
  const get = <T extends Element>(id: string): T => {
    const el = doc.getElementById(id);
    if (!el) throw new Error(`page is missing #${id}`);
    return el as unknown as T;
  };
  return {
    body: doc.body,
    talk: get('talk'),
    talkLabel: get('talk-label'),
    pill: get('status-pill'),
    status: get('status'),
    error: get('error'),
    errorTitle: get('error-title'),
    errorHint: get('error-hint'),
    relay: get('relay'),
    agent: get('agent'),
    session: get('session'),
    audio: get('remote-audio'),
    waterfall: get('waterfall'),
    rttPath: get('rtt-path'),
    rttMax: get('rtt-max'),
    rtt: get('m-rtt'),
    jitter: get('m-jitter'),
    received: get('m-received'),
    lost: get('m-lost'),
    remote: get('m-remote'),
    events: get('events'),
    eventsEmpty: get('events-empty'),
    eventsMalformed: get('events-malformed'),
    tokenForm: get('token-form'),
    tokenInput: get('token-input'),
    tokenClear: get('token-clear'),
    tokenOrigin: get('token-origin'),
    agentPicker: get('agent-picker'),
    agentState: get('agent-state'),
    agentStateLabel: get('agent-state-label'),
    agentStateHint: get('agent-state-hint'),
    micLevel: get('mic-level'),
    micMeter: get('mic-meter'),
    transcript: get('transcript'),
    conversationEmpty: get('conversation-empty'),
    firstReply: get('first-reply'),
    bargeIns: get('barge-ins'),
    waterfallAxis: get('waterfall-axis'),
    replyMs: get('reply-ms'),
  };
}

const STATES: Record<
  PageState,
  { pill: string; tone: string; button: string; action: string; status: string }
> = {
  idle: {
    pill: 'Idle',
    tone: 'idle',
    button: 'Talk',
    action: 'talk',
    status: 'Press Talk and speak.',
  },
  connecting: {
    pill: 'Connecting',
    tone: 'busy',
    button: 'Cancel',
    action: 'cancel',
    status: 'Connecting through the relay…',
  },
  connected: {
    pill: 'Connected',
    tone: 'ok',
    button: 'Hang up',
    action: 'hangup',
    status: 'Connected. Speak, then pause: the agent answers.',
  },
  reconnecting: {
    pill: 'Reconnecting',
    tone: 'warn',
    button: 'Hang up',
    action: 'hangup',
    status: 'The media path paused; waiting for it to come back…',
  },
  ending: { pill: 'Hanging up', tone: 'busy', button: 'Talk', action: 'none', status: 'Hanging up…' },
  failed: { pill: 'Not connected', tone: 'bad', button: 'Talk', action: 'talk', status: '' },
};

export function renderState(el: Elements, state: PageState): void {
  const s = STATES[state];
  el.body.dataset.callState = state;
  el.pill.textContent = s.pill;
  el.pill.dataset.tone = s.tone;
  el.talkLabel.textContent = s.button;
  el.talk.dataset.action = s.action;
  el.talk.disabled = s.action === 'none';
  // The agent is chosen per call: not while one is being set up or running.
  el.agentPicker.disabled = state !== 'idle' && state !== 'failed';
  el.status.textContent = s.status;
  el.status.hidden = s.status === '';
}

export function renderFailure(el: Elements, message: FailureMessage | undefined): void {
  el.error.hidden = message === undefined;
  el.errorTitle.textContent = message?.title ?? '';
  el.errorHint.textContent = message?.hint ?? '';
}

export function renderFacts(el: Elements, facts: { relay?: string; session?: string; agent?: string }): void {
  el.relay.textContent = facts.relay ?? '—';
  el.agent.textContent = facts.agent ?? 'default';
  // The URL's id is `<session id>.<owner tag>` when the edge binds it to the token's subject; the
  // session id is what server logs name, and its tail is enough to find it there.
  const id = facts.session ? ((facts.session.split('/').pop() ?? '').split('.')[0] ?? '') : '';
  el.session.textContent = id ? `…${id.slice(-8)}` : '—';
  el.session.title = id;
}

export function renderWaterfall(el: Elements, rows: readonly WaterfallRow[]): void {
  const scale = waterfallScale(rows);
  // About one label per 48 px, so a phone-width track does not crowd them.
  const width = el.waterfallAxis.clientWidth;
  const ticks = axisTicks(scale, width > 0 ? Math.max(2, Math.floor(width / 48)) : 4);
  el.waterfallAxis.replaceChildren(
    ...ticks.map((t, i) => {
      const tick = document.createElement('span');
      tick.className = 'wf-tick';
      tick.style.setProperty('--at', `${t.at * 100}%`);
      tick.textContent = i === ticks.length - 1 && i > 0 ? `${t.ms} ms` : `${t.ms}`;
      return tick;
    }),
  );
  el.waterfallAxis.dataset.scaleMs = String(Math.round(scale));
  for (const row of rows) {
    const li = el.waterfall.querySelector<HTMLElement>(`[data-stage="${row.stage}"]`);
    if (!li) continue;
    const bar = li.querySelector<HTMLElement>('.wf-bar');
    const ms = li.querySelector<HTMLElement>('.wf-ms');
    if (row.endMs === undefined || row.startMs === undefined) {
      delete li.dataset.ms;
      delete li.dataset.reached;
      bar?.style.setProperty('--start', '0%');
      bar?.style.setProperty('--width', '0%');
      if (ms) ms.textContent = '—';
      continue;
    }
    li.dataset.ms = String(Math.round(row.endMs));
    li.dataset.reached = '';
    bar?.style.setProperty('--start', `${(row.startMs / scale) * 100}%`);
    bar?.style.setProperty('--width', `${((row.endMs - row.startMs) / scale) * 100}%`);
    if (ms) ms.textContent = `${Math.round(row.endMs)} ms`;
  }
}

export function renderQuality(
  el: Elements,
  sample: QualitySample | undefined,
  plot: Plot,
  relay: string | undefined,
): void {
  el.rttPath.setAttribute('d', plot.path);
  el.rttMax.textContent = String(plot.maxMs);
  el.rtt.textContent = sample?.rttMs !== undefined ? `${formatMs(sample.rttMs)} ms` : '—';
  el.jitter.textContent = sample?.jitterMs !== undefined ? `${formatMs(sample.jitterMs)} ms` : '—';
  el.received.textContent = sample?.packetsReceived?.toLocaleString('en-US') ?? '—';
  el.lost.textContent = sample?.packetsLost?.toLocaleString('en-US') ?? '—';
  el.remote.replaceChildren();
  const remote = sample?.remoteCandidate;
  el.remote.dataset.address = remote ?? '';
  if (!remote) {
    el.remote.textContent = '—';
    return;
  }
  const badge = document.createElement('span');
  const viaRelay = relay !== undefined && remote === relay;
  badge.className = `badge ${viaRelay ? 'ok' : 'warn'}`;
  badge.textContent = viaRelay ? 'relay' : 'not the relay';
  el.remote.append(remote, badge);
}

export function renderEvents(el: Elements, log: EventLog): void {
  const items = log.items();
  el.eventsEmpty.hidden = items.length > 0;
  el.events.replaceChildren(
    ...items.map((e) => {
      const li = document.createElement('li');
      const time = document.createElement('time');
      time.className = 'ev-time';
      time.dateTime = new Date(e.at).toISOString();
      // Call time when the sender stamps it, which reads better than the clock.
      time.textContent =
        e.t !== undefined
          ? `+${(e.t / 1000).toFixed(2)} s`
          : new Date(e.at).toLocaleTimeString([], { hour12: false });
      const type = document.createElement('span');
      type.className = 'ev-type';
      type.textContent = e.type;
      const summary = document.createElement('span');
      summary.className = 'ev-summary';
      summary.textContent = e.summary;
      li.append(time, type, summary);
      return li;
    }),
  );
  el.eventsMalformed.hidden = log.malformed === 0;
  el.eventsMalformed.textContent = `${log.malformed} unreadable message${log.malformed === 1 ? '' : 's'} ignored.`;
}

const TOKEN_ORIGINS: Record<TokenOrigin, string> = {
  provided: '· your token',
  dev: '· development token from this edge',
  none: '· none set',
};

export function renderTokenOrigin(el: Elements, origin: TokenOrigin): void {
  el.tokenOrigin.textContent = TOKEN_ORIGINS[origin];
}

function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

/** What the big indicator shows: the call's phase before it is up, the agent's turn once it is. */
export type IndicatorState =
  | 'idle'
  | 'connecting'
  | 'listening'
  | 'hearing'
  | 'thinking'
  | 'speaking'
  | 'ended'
  | 'failed';

const INDICATOR: Record<IndicatorState, { label: string; hint: string }> = {
  idle: { label: 'Ready', hint: 'Press Talk to start a call' },
  connecting: { label: 'Connecting…', hint: 'Opening the microphone and the media path' },
  listening: { label: 'Listening', hint: 'Speak, then pause' },
  hearing: { label: 'Listening', hint: 'Hearing you…' },
  thinking: { label: 'Thinking', hint: 'The agent is preparing its answer' },
  speaking: { label: 'Speaking', hint: 'Talk over it to interrupt' },
  ended: { label: 'Call ended', hint: 'Press Talk to call again' },
  failed: { label: 'Not connected', hint: 'The message below says why' },
};

export function indicatorState(call: PageState, conversation: Conversation): IndicatorState {
  if (call === 'connecting') return 'connecting';
  if (call === 'connected' || call === 'reconnecting') {
    if (conversation.state === 'listening' && conversation.userSpeaking) return 'hearing';
    return conversation.state;
  }
  if (call === 'failed') return 'failed';
  return call === 'idle' ? 'idle' : 'ended';
}

const IN_CALL: readonly IndicatorState[] = ['listening', 'hearing', 'thinking', 'speaking'];

export function renderIndicator(el: Elements, state: IndicatorState, echoLike: boolean): void {
  // An echo agent has no turns (it reports itself speaking all call long): say what it does instead.
  const echoing = echoLike && IN_CALL.includes(state);
  const s = echoing ? { label: 'Echoing', hint: 'You hear yourself, a moment later' } : INDICATOR[state];
  el.agentState.dataset.state = state;
  el.body.dataset.agentState = state;
  el.agentStateLabel.textContent = s.label;
  el.agentStateHint.textContent = s.hint;
  if (echoing && el.body.dataset.callState === 'connected')
    el.status.textContent = 'Connected. Speak: the echo agent plays your voice back through the relay.';
}

export function renderMicLevel(el: Elements, level: number | undefined): void {
  const pct = level === undefined ? 0 : Math.round(level * 100);
  el.micMeter.value = pct;
  el.micLevel.dataset.active = String(level !== undefined);
  el.micLevel.style.setProperty('--level', String(level ?? 0));
  // The indicator's core breathes with the caller's voice while the agent listens.
  el.agentState.style.setProperty('--level', String(level ?? 0));
  const bars = el.micLevel.querySelectorAll<HTMLElement>('.mic-bars > span');
  bars.forEach((bar, i) => {
    bar.dataset.on = String(level !== undefined && level * bars.length > i + 0.25);
  });
}

export function renderConversation(el: Elements, conversation: Conversation): void {
  const items = conversation.items();
  el.conversationEmpty.hidden = items.length > 0;
  el.transcript.replaceChildren(...items.map(transcriptItem));
  // Follow the conversation, as chat windows do.
  el.transcript.scrollTop = el.transcript.scrollHeight;
  const reply = conversation.lastFirstReplyMs;
  el.firstReply.textContent = reply === undefined ? '—' : `${Math.round(reply)} ms`;
  el.replyMs.textContent = reply === undefined ? '—' : `${Math.round(reply)} ms`;
  el.replyMs.title = conversation.firstReplyMs.map((ms) => `${Math.round(ms)} ms`).join(', ');
  el.bargeIns.textContent = String(conversation.bargeIns);
}

function transcriptItem(item: ConversationItem): HTMLLIElement {
  const li = document.createElement('li');
  li.className = `tr tr-${item.role}`;
  if (item.role === 'barge-in') {
    li.textContent = 'You interrupted the agent';
    return li;
  }
  const who = document.createElement('span');
  who.className = 'tr-who';
  who.textContent = item.role === 'user' ? 'You' : 'Agent';
  const text = document.createElement('span');
  text.className = 'tr-text';
  text.textContent = item.text;
  if (!item.final) li.dataset.partial = '';
  li.append(who, text);
  return li;
}
