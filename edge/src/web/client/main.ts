import './styles.css';
import { Conversation } from './conversation.js';
import { EventLog } from './event-log.js';
import { asCallFailure, CallFailure, describeFailure } from './failures.js';
import { MicLevelMeter } from './level-meter.js';
import { closeMicrophone, openMicrophone } from './microphone.js';
import { plotRtt, RttHistory } from './rtt-history.js';
import { TokenSource, takeTokenFromUrl } from './token-source.js';
import {
  findElements,
  indicatorState,
  type PageState,
  renderConversation,
  renderEvents,
  renderFacts,
  renderFailure,
  renderIndicator,
  renderMicLevel,
  renderQuality,
  renderState,
  renderTokenOrigin,
  renderWaterfall,
} from './view.js';
import { VoiceCall } from './voice-call.js';
import { Waterfall } from './waterfall.js';

// The page's wiring: DOM events in, VoiceCall out, and the view kept current.

const PLOT_SIZE = { width: 300, height: 90 };
const STATS_INTERVAL_MS = 1_000;

const el = findElements(document);
const edgeUrl = window.location.origin;
// The agent picker starts from ?agent= (links can name one) and writes its choice back there.
const askedAgent = new URL(window.location.href).searchParams.get('agent') ?? '';
if (askedAgent && ![...el.agentPicker.options].some((o) => o.value === askedAgent)) {
  el.agentPicker.add(new Option(askedAgent, askedAgent));
}
el.agentPicker.value = askedAgent;
let agent: string | undefined = askedAgent || undefined;
const tokens = new TokenSource({
  fetch: (input, init) => fetch(input, init),
  edgeUrl,
  storage: window.sessionStorage,
});

const fromUrl = takeTokenFromUrl(window.location.href);
if (fromUrl.token) {
  tokens.setProvided(fromUrl.token);
  window.history.replaceState(null, '', fromUrl.cleanedUrl);
}

const rtt = new RttHistory();
const events = new EventLog();
const conversation = new Conversation();
let meter: MicLevelMeter | undefined;
let waterfall = new Waterfall();
let state: PageState = 'idle';
let call: VoiceCall | undefined;
let mic: MediaStream | undefined;
let setupAbort: AbortController | undefined;
let statsTimer: ReturnType<typeof setInterval> | undefined;
let relay: string | undefined;
/** What the call card shows under the button. */
let facts: { relay?: string; session?: string; agent?: string } = agent ? { agent } : {};

function setState(next: PageState): void {
  state = next;
  renderState(el, next);
  showIndicator();
}

function showIndicator(): void {
  const name = facts.agent ?? agent;
  renderIndicator(el, indicatorState(state, conversation), name === 'echo' || name === 'rtp-echo');
}

async function talk(): Promise<void> {
  renderFailure(el, undefined);
  waterfall = new Waterfall();
  renderWaterfall(el, waterfall.rows());
  rtt.clear();
  events.clear();
  renderEvents(el, events);
  conversation.clear();
  renderConversation(el, conversation);
  relay = undefined;
  facts = agent ? { agent } : {};
  renderFacts(el, facts);
  renderQuality(el, undefined, plotRtt([], performance.now(), PLOT_SIZE), undefined);
  setState('connecting');
  const abort = new AbortController();
  setupAbort = abort;
  try {
    mic = await openMicrophone({
      mediaDevices: navigator.mediaDevices,
      isSecureContext: window.isSecureContext,
    });
    if (abort.signal.aborted) throw new CallFailure('cancelled');
    startMeter(mic);
    const { token, origin } = await tokens.get();
    renderTokenOrigin(el, origin);
    call = await VoiceCall.start({
      fetch: (input, init) => fetch(input, init),
      edgeUrl,
      ...(token && { token }),
      ...(agent && { agent }),
      microphone: mic,
      signal: abort.signal,
      onStage: (stage, ms) => {
        if (waterfall.mark(stage, ms)) renderWaterfall(el, waterfall.rows());
      },
      onSession: (s) => {
        relay = s.relay;
        facts = { ...facts, session: s.sessionUrl, ...(s.relay && { relay: s.relay }) };
        renderFacts(el, facts);
      },
      onRemoteStream: (stream) => {
        el.audio.srcObject = stream;
        // Talk was a click, so autoplay is allowed; a refusal just means silence, not a failed call.
        el.audio.play().catch(() => undefined);
      },
      onEvent: (data) => {
        const e = events.receive(data, Date.now());
        renderEvents(el, events);
        if (e && conversation.apply(e)) {
          renderConversation(el, conversation);
          showIndicator();
        }
        // The transceiver names the agent it actually runs (the default one when none was asked for).
        if (e?.type === 'session.ready' && typeof e.fields.agent === 'string') {
          facts = { ...facts, agent: e.fields.agent };
          renderFacts(el, facts);
          showIndicator();
        }
      },
      onStatus: (s) => {
        if (s === 'reconnecting' && state === 'connected') setState('reconnecting');
        else if (s === 'connected' && state === 'reconnecting') setState('connected');
      },
      onDropped: (failure) => ended(failure),
    });
    setupAbort = undefined;
    setState('connected');
    statsTimer = setInterval(() => void sampleQuality(), STATS_INTERVAL_MS);
    void sampleQuality();
  } catch (err) {
    setupAbort = undefined;
    call = undefined;
    const failure = asCallFailure(err);
    if (failure.kind === 'unauthorized') {
      tokens.invalidate();
      el.tokenForm.closest('details')?.setAttribute('open', '');
    }
    ended(failure.kind === 'cancelled' ? undefined : failure);
  }
}

async function sampleQuality(): Promise<void> {
  const current = call;
  if (!current) return;
  const sample = await current.quality().catch(() => undefined);
  if (call !== current) return;
  const now = performance.now();
  if (sample?.rttMs !== undefined) rtt.add(now, sample.rttMs);
  renderQuality(el, sample, plotRtt(rtt.window(now), now, PLOT_SIZE), relay);
}

async function hangUp(): Promise<void> {
  const current = call;
  if (!current) return;
  setState('ending');
  await sampleQuality();
  stopStats();
  await current.hangUp();
  ended(undefined);
}

/** Back to idle (or failed): the last call's figures stay on screen to read. */
function ended(failure: CallFailure | undefined): void {
  stopStats();
  call = undefined;
  stopMeter();
  closeMicrophone(mic);
  mic = undefined;
  el.audio.srcObject = null;
  renderFailure(el, failure && describeFailure(failure));
  setState(failure ? 'failed' : 'idle');
}

/** The level meter beside Talk reads the same stream the call sends. */
function startMeter(stream: MediaStream): void {
  stopMeter();
  try {
    meter = new MicLevelMeter(stream, (level) => renderMicLevel(el, level));
  } catch {
    // No Web Audio: the call works without a meter.
    meter = undefined;
  }
}

function stopMeter(): void {
  meter?.close();
  meter = undefined;
  renderMicLevel(el, undefined);
}

function stopStats(): void {
  if (statsTimer !== undefined) clearInterval(statsTimer);
  statsTimer = undefined;
}

el.talk.addEventListener('click', () => {
  const action = el.talk.dataset.action;
  if (action === 'talk') void talk();
  else if (action === 'cancel') setupAbort?.abort();
  else if (action === 'hangup') void hangUp();
});

document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  if (state === 'connecting') setupAbort?.abort();
  else if (state === 'connected' || state === 'reconnecting') void hangUp();
});

// Closing or leaving the tab ends the session right away instead of after the transceiver's timeouts.
window.addEventListener('pagehide', () => {
  setupAbort?.abort();
  call?.hangUpOnUnload();
  closeMicrophone(mic);
});

// A network change (back online, Wi-Fi to cellular) restarts ICE at once, before consent times out.
window.addEventListener('online', () => call?.restartIce());
(navigator as { connection?: EventTarget }).connection?.addEventListener('change', () => call?.restartIce());

// The waterfall axis picks its tick count from its width.
window.addEventListener('resize', () => renderWaterfall(el, waterfall.rows()));

el.agentPicker.addEventListener('change', () => {
  agent = el.agentPicker.value || undefined;
  facts = agent ? { agent } : {};
  renderFacts(el, facts);
  const url = new URL(window.location.href);
  if (agent) url.searchParams.set('agent', agent);
  else url.searchParams.delete('agent');
  window.history.replaceState(null, '', url);
});

el.tokenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  tokens.setProvided(el.tokenInput.value);
  el.tokenInput.value = '';
  void showTokenOrigin();
});
el.tokenClear.addEventListener('click', () => {
  tokens.setProvided(undefined);
  void showTokenOrigin();
});

async function showTokenOrigin(): Promise<void> {
  renderTokenOrigin(el, (await tokens.get()).origin);
}

renderFacts(el, facts);
renderWaterfall(el, waterfall.rows());
renderEvents(el, events);
renderConversation(el, conversation);
renderMicLevel(el, undefined);
showIndicator();
void showTokenOrigin();
