import type { ClientEventBody } from '../media/client-events.js';

/**
 * The OpenAI Realtime event vocabulary (GA names) spoken on the `oai-events`
 * data channel and the sideband WebSocket, mapped to and from Parley's own
 * session events. Pure: no channel, no agent, no clock of its own, so every
 * mapping is unit-tested with plain values. The glue that feeds it lives in
 * ./oai-events-channel.ts.
 */

/** A Realtime server event; `event_id` is ours, unique per session. */
export interface ServerEvent {
  type: string;
  event_id: string;
  [field: string]: unknown;
}

/** What a client event asks the session to do besides answering with events. */
export type OaiAction =
  /** New session settings, already merged: the agent may apply what it understands. */
  | { kind: 'configure'; session: RealtimeSessionConfig }
  /** A response on request (`response.create`); only sent when the agent can make one. */
  | { kind: 'create_response'; response: Record<string, unknown> }
  /** Stop the current response and its audio (`response.cancel`, `output_audio_buffer.clear`). */
  | { kind: 'cancel_response' }
  /** A conversation item the client added (a message, or a tool's result for the agent). */
  | { kind: 'add_item'; item: ConversationItem };

export interface ClientEventResult {
  events: ServerEvent[];
  actions: OaiAction[];
}

/** The session object of `session.created`/`session.updated` (GA shape), as far as Parley keeps it. */
export interface RealtimeSessionConfig {
  type: 'realtime';
  object: 'realtime.session';
  id: string;
  model: string;
  instructions: string;
  output_modalities: string[];
  audio: {
    input: { turn_detection: TurnDetection | null; [k: string]: unknown };
    output: Record<string, unknown>;
  };
  tools: unknown[];
  tool_choice: unknown;
  [k: string]: unknown;
}

/** Passed through to agents as given; Parley's own VAD runs either way (it drives barge-in). */
export type TurnDetection = { type: 'server_vad' | 'semantic_vad'; [k: string]: unknown };

export interface ConversationItem {
  id: string;
  type: 'message' | 'function_call' | 'function_call_output';
  [k: string]: unknown;
}

export interface OaiEventMapperOptions {
  /** Parley's session id: the Realtime call id and session id. */
  sessionId: string;
  /** The agent's name, reported as the session's model. */
  agentName: string;
  /** Whether the agent can start a response on request (echo cannot: it only mirrors). */
  canCreateResponse: boolean;
  /** ms since the session started (audio_start_ms/audio_end_ms). */
  now: () => number;
  /** Unique ids for events, items and responses, e.g. `item_…`. */
  newId: (prefix: 'event' | 'item' | 'resp') => string;
}

/** Items kept for retrieve/truncate/delete; older ones are forgotten (a long call must not grow without bound). */
export const MAX_ITEMS = 256;
/** Larger client events are refused before parsing (a data-channel message is at most 256 KiB anyway). */
export const MAX_CLIENT_EVENT_BYTES = 256 * 1024;

export const CLIENT_EVENT_TYPES = [
  'session.update',
  'response.create',
  'response.cancel',
  'output_audio_buffer.clear',
  'input_audio_buffer.clear',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.delete',
  'conversation.item.truncate',
] as const;

interface ActiveResponse {
  id: string;
  itemId: string;
  transcript: string;
}

/**
 * One session's mapping state: the session settings, the conversation items
 * it announced, the current user turn and agent response.
 */
export class OaiEventMapper {
  private session: RealtimeSessionConfig;
  private readonly items = new Map<string, ConversationItem>();
  /** Each item's predecessor, for previous_item_id. */
  private readonly previous = new Map<string, string | null>();
  private lastItemId: string | null = null;
  /** The user's current (or last) spoken turn. */
  private userItemId?: string;
  private response?: ActiveResponse;
  /** The response whose audio is playing (output_audio_buffer.*), which may outlive response.done. */
  private playingResponseId?: string;
  private speaking = false;

  constructor(private readonly opts: OaiEventMapperOptions) {
    this.session = {
      type: 'realtime',
      object: 'realtime.session',
      id: opts.sessionId,
      model: opts.agentName,
      instructions: '',
      output_modalities: ['audio'],
      // Parley's own VAD decides turns (and barge-in); server_vad is the honest default.
      audio: { input: { turn_detection: { type: 'server_vad' } }, output: {} },
      tools: [],
      tool_choice: 'auto',
    };
  }

  get sessionConfig(): RealtimeSessionConfig {
    return this.session;
  }

  get activeResponseId(): string | undefined {
    return this.response?.id;
  }

  /** The first event on a new channel. */
  sessionCreated(): ServerEvent[] {
    return [this.ev('session.created', { session: this.session })];
  }

  /** Parley's session event → the Realtime server events that say the same. */
  fromParley(e: ClientEventBody): ServerEvent[] {
    switch (e.type) {
      case 'speech.started': {
        this.userItemId = this.opts.newId('item');
        return [
          this.ev('input_audio_buffer.speech_started', {
            item_id: this.userItemId,
            audio_start_ms: this.ms(),
          }),
        ];
      }
      case 'speech.stopped': {
        const itemId = this.userItemId ?? this.opts.newId('item');
        this.userItemId = itemId;
        const out = [
          this.ev('input_audio_buffer.speech_stopped', { item_id: itemId, audio_end_ms: this.ms() }),
          this.ev('input_audio_buffer.committed', { item_id: itemId, previous_item_id: this.lastItemId }),
        ];
        // A transcript may have announced the item already.
        return this.items.has(itemId) ? out : out.concat(this.addItem(this.userItem(itemId)));
      }
      case 'transcript':
        return e.role === 'user'
          ? this.userTranscript(e.text, e.final)
          : this.agentTranscript(e.text, e.final);
      case 'response.started':
        return this.startResponse();
      case 'response.done':
        return this.finishResponse(e.status);
      case 'agent.state': {
        if (e.state === 'speaking' && !this.speaking) {
          this.speaking = true;
          this.playingResponseId = this.response?.id;
          return [this.ev('output_audio_buffer.started', { response_id: this.playingResponseId ?? null })];
        }
        if (e.state !== 'speaking' && this.speaking) {
          this.speaking = false;
          return [this.ev('output_audio_buffer.stopped', { response_id: this.playingResponseId ?? null })];
        }
        return [];
      }
      case 'barge_in':
        this.speaking = false;
        return [this.ev('output_audio_buffer.cleared', { response_id: this.playingResponseId ?? null })];
      default:
        // session.ready is session.created (sent when the channel opens); latency reports have no Realtime name.
        return [];
    }
  }

  /** One client event (a data-channel or WebSocket text message). Never throws. */
  fromClient(text: string): ClientEventResult {
    if (text.length > MAX_CLIENT_EVENT_BYTES)
      return this.fail(undefined, 'invalid_value', `event is larger than ${MAX_CLIENT_EVENT_BYTES} bytes`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.fail(undefined, 'invalid_json', 'the event is not valid JSON');
    }
    if (!isRecord(raw)) return this.fail(undefined, 'invalid_json', 'the event must be a JSON object');
    const clientId = typeof raw.event_id === 'string' ? raw.event_id : undefined;
    if (typeof raw.type !== 'string')
      return this.fail(clientId, 'missing_required_parameter', "missing required parameter: 'type'", 'type');
    switch (raw.type) {
      case 'session.update':
        return this.sessionUpdate(raw, clientId);
      case 'response.create': {
        if (!this.opts.canCreateResponse)
          return this.fail(
            clientId,
            'unsupported_by_agent',
            `agent "${this.opts.agentName}" only answers speech; it cannot start a response on request`,
            'type',
          );
        if (this.response)
          return this.fail(
            clientId,
            'conversation_already_has_active_response',
            `response ${this.response.id} is in progress`,
          );
        const response = raw.response === undefined ? {} : raw.response;
        if (!isRecord(response))
          return this.fail(clientId, 'invalid_type', "'response' must be an object", 'response');
        return { events: [], actions: [{ kind: 'create_response', response }] };
      }
      case 'response.cancel': {
        const active = this.response;
        if (!active) return this.fail(clientId, 'response_cancel_not_active', 'no response is in progress');
        if (raw.response_id !== undefined && raw.response_id !== active.id)
          return this.fail(
            clientId,
            'invalid_value',
            `response ${String(raw.response_id)} is not in progress`,
            'response_id',
          );
        return { events: [], actions: [{ kind: 'cancel_response' }] };
      }
      case 'output_audio_buffer.clear':
        this.speaking = false;
        return {
          events: [this.ev('output_audio_buffer.cleared', { response_id: this.playingResponseId ?? null })],
          actions: this.response ? [{ kind: 'cancel_response' }] : [],
        };
      case 'input_audio_buffer.clear':
        // Audio arrives over RTP and is never buffered for a commit: there is nothing to clear.
        return { events: [this.ev('input_audio_buffer.cleared', {})], actions: [] };
      case 'input_audio_buffer.append':
      case 'input_audio_buffer.commit':
        return this.fail(
          clientId,
          'unsupported_over_webrtc',
          `${raw.type}: the user's audio comes from the WebRTC track, and Parley's VAD ends turns`,
          'type',
        );
      case 'conversation.item.create':
        return this.itemCreate(raw, clientId);
      case 'conversation.item.retrieve': {
        const item = this.knownItem(raw.item_id);
        if (!item) return this.missingItem(raw.item_id, clientId);
        return { events: [this.ev('conversation.item.retrieved', { item })], actions: [] };
      }
      case 'conversation.item.delete': {
        const item = this.knownItem(raw.item_id);
        if (!item) return this.missingItem(raw.item_id, clientId);
        this.items.delete(item.id);
        return { events: [this.ev('conversation.item.deleted', { item_id: item.id })], actions: [] };
      }
      case 'conversation.item.truncate': {
        const item = this.knownItem(raw.item_id);
        if (!item) return this.missingItem(raw.item_id, clientId);
        if (typeof raw.audio_end_ms !== 'number' || raw.audio_end_ms < 0)
          return this.fail(clientId, 'invalid_value', "'audio_end_ms' must be a number >= 0", 'audio_end_ms');
        const contentIndex = typeof raw.content_index === 'number' ? raw.content_index : 0;
        return {
          events: [
            this.ev('conversation.item.truncated', {
              item_id: item.id,
              content_index: contentIndex,
              audio_end_ms: raw.audio_end_ms,
            }),
          ],
          actions: [],
        };
      }
      default:
        return this.fail(
          clientId,
          'invalid_value',
          `Invalid value: '${raw.type.slice(0, 64)}'. Supported values are: ${CLIENT_EVENT_TYPES.join(', ')}.`,
          'type',
        );
    }
  }

  private sessionUpdate(raw: Record<string, unknown>, clientId: string | undefined): ClientEventResult {
    const s = raw.session;
    if (!isRecord(s)) return this.fail(clientId, 'invalid_type', "'session' must be an object", 'session');
    if (s.type !== undefined && s.type !== 'realtime')
      return this.fail(clientId, 'invalid_value', "only 'realtime' sessions are supported", 'session.type');
    if (s.instructions !== undefined && typeof s.instructions !== 'string')
      return this.fail(
        clientId,
        'invalid_type',
        "'session.instructions' must be a string",
        'session.instructions',
      );
    if (s.tools !== undefined && !Array.isArray(s.tools))
      return this.fail(clientId, 'invalid_type', "'session.tools' must be an array", 'session.tools');
    if (s.audio !== undefined && !isRecord(s.audio))
      return this.fail(clientId, 'invalid_type', "'session.audio' must be an object", 'session.audio');
    const audio = (s.audio ?? {}) as Record<string, unknown>;
    for (const side of ['input', 'output'] as const)
      if (audio[side] !== undefined && !isRecord(audio[side]))
        return this.fail(
          clientId,
          'invalid_type',
          `'session.audio.${side}' must be an object`,
          `session.audio.${side}`,
        );
    const input = { ...((audio.input ?? {}) as Record<string, unknown>) };
    // The beta shape had turn_detection at the top; accept it where the GA shape keeps it.
    if (input.turn_detection === undefined && s.turn_detection !== undefined)
      input.turn_detection = s.turn_detection;
    const td = input.turn_detection;
    if (
      td !== undefined &&
      td !== null &&
      !(isRecord(td) && (td.type === 'server_vad' || td.type === 'semantic_vad'))
    )
      return this.fail(
        clientId,
        'invalid_value',
        "'turn_detection' must be null or an object whose type is 'server_vad' or 'semantic_vad'",
        'session.audio.input.turn_detection',
      );
    const { audio: _a, turn_detection: _t, type: _ty, ...rest } = s;
    // The id and object are ours; the model is the agent this call runs, whatever the client asked for.
    delete rest.id;
    delete rest.object;
    delete rest.model;
    this.session = {
      ...this.session,
      ...rest,
      audio: {
        input: { ...this.session.audio.input, ...input } as RealtimeSessionConfig['audio']['input'],
        output: { ...this.session.audio.output, ...((audio.output ?? {}) as Record<string, unknown>) },
      },
    };
    return {
      events: [this.ev('session.updated', { session: this.session })],
      actions: [{ kind: 'configure', session: this.session }],
    };
  }

  private itemCreate(raw: Record<string, unknown>, clientId: string | undefined): ClientEventResult {
    const item = raw.item;
    if (!isRecord(item)) return this.fail(clientId, 'invalid_type', "'item' must be an object", 'item');
    switch (item.type) {
      case 'function_call_output':
        if (typeof item.call_id !== 'string' || item.call_id === '')
          return this.fail(clientId, 'missing_required_parameter', "missing 'item.call_id'", 'item.call_id');
        if (typeof item.output !== 'string')
          return this.fail(clientId, 'invalid_type', "'item.output' must be a string", 'item.output');
        break;
      case 'function_call':
        if (typeof item.call_id !== 'string' || typeof item.name !== 'string')
          return this.fail(
            clientId,
            'missing_required_parameter',
            "a function_call needs 'call_id' and 'name'",
            'item',
          );
        break;
      case 'message':
        if (item.role !== 'user' && item.role !== 'assistant' && item.role !== 'system')
          return this.fail(
            clientId,
            'invalid_value',
            "'item.role' must be user, assistant or system",
            'item.role',
          );
        if (!Array.isArray(item.content))
          return this.fail(clientId, 'invalid_type', "'item.content' must be an array", 'item.content');
        break;
      default:
        return this.fail(
          clientId,
          'invalid_value',
          "'item.type' must be message, function_call or function_call_output",
          'item.type',
        );
    }
    if (item.id !== undefined && (typeof item.id !== 'string' || item.id === '' || item.id.length > 64))
      return this.fail(clientId, 'invalid_value', "'item.id' must be a string of 1-64 characters", 'item.id');
    if (typeof item.id === 'string' && this.items.has(item.id))
      return this.fail(clientId, 'item_already_exists', `item ${item.id} already exists`, 'item.id');
    const stored: ConversationItem = {
      ...item,
      type: item.type,
      id: (item.id as string | undefined) ?? this.opts.newId('item'),
      object: 'realtime.item',
      status: 'completed',
    };
    return { events: this.addItem(stored), actions: [{ kind: 'add_item', item: stored }] };
  }

  private userTranscript(text: string, final: boolean): ServerEvent[] {
    const out: ServerEvent[] = [];
    // The agent's own turn detection can produce a transcript our VAD never framed as a turn.
    const itemId = this.userItemId ?? this.opts.newId('item');
    this.userItemId = itemId;
    if (!this.items.has(itemId)) out.push(...this.addItem(this.userItem(itemId)));
    if (!final) {
      out.push(
        this.ev('conversation.item.input_audio_transcription.delta', {
          item_id: itemId,
          content_index: 0,
          delta: text,
        }),
      );
      return out;
    }
    const item = this.items.get(itemId);
    if (item) item.content = [{ type: 'input_audio', transcript: text }];
    out.push(
      this.ev('conversation.item.input_audio_transcription.completed', {
        item_id: itemId,
        content_index: 0,
        transcript: text,
      }),
    );
    return out;
  }

  private agentTranscript(text: string, final: boolean): ServerEvent[] {
    // A transcript outside any response (an agent that does not frame its replies) gets one of its own.
    const out = this.response ? [] : this.startResponse();
    const r = this.response as ActiveResponse;
    const where = { response_id: r.id, item_id: r.itemId, output_index: 0, content_index: 0 };
    if (!final) {
      r.transcript += text;
      out.push(this.ev('response.output_audio_transcript.delta', { ...where, delta: text }));
    } else {
      r.transcript = text;
      out.push(this.ev('response.output_audio_transcript.done', { ...where, transcript: text }));
    }
    return out;
  }

  private startResponse(): ServerEvent[] {
    // A second response.started without a done: close the first, as the agent evidently moved on.
    const out = this.response ? this.finishResponse('cancelled') : [];
    const r: ActiveResponse = {
      id: this.opts.newId('resp'),
      itemId: this.opts.newId('item'),
      transcript: '',
    };
    this.response = r;
    const item: ConversationItem = {
      id: r.itemId,
      type: 'message',
      object: 'realtime.item',
      role: 'assistant',
      status: 'in_progress',
      content: [],
    };
    out.push(
      this.ev('response.created', {
        response: {
          id: r.id,
          object: 'realtime.response',
          status: 'in_progress',
          output: [],
          output_modalities: ['audio'],
        },
      }),
      this.ev('response.output_item.added', { response_id: r.id, output_index: 0, item }),
    );
    out.push(...this.addItem(item, false));
    out.push(
      this.ev('response.content_part.added', {
        response_id: r.id,
        item_id: r.itemId,
        output_index: 0,
        content_index: 0,
        part: { type: 'audio', transcript: '' },
      }),
    );
    return out;
  }

  private finishResponse(status: 'completed' | 'cancelled'): ServerEvent[] {
    const r = this.response;
    if (!r) return [];
    this.response = undefined;
    const item = this.items.get(r.itemId) ?? { id: r.itemId, type: 'message' as const };
    item.status = status === 'completed' ? 'completed' : 'incomplete';
    item.content = [{ type: 'output_audio', transcript: r.transcript }];
    const where = { response_id: r.id, item_id: r.itemId, output_index: 0, content_index: 0 };
    return [
      this.ev('response.content_part.done', { ...where, part: { type: 'audio', transcript: r.transcript } }),
      this.ev('response.output_item.done', { response_id: r.id, output_index: 0, item }),
      this.ev('conversation.item.done', { item, previous_item_id: this.previousOf(r.itemId) }),
      this.ev('response.done', {
        response: {
          id: r.id,
          object: 'realtime.response',
          status,
          ...(status === 'cancelled' && { status_details: { type: 'cancelled', reason: 'turn_detected' } }),
          output: [item],
          output_modalities: ['audio'],
          // Parley does not meter tokens; null says so rather than inventing zeros.
          usage: null,
        },
      }),
    ];
  }

  private userItem(id: string): ConversationItem {
    return {
      id,
      type: 'message',
      object: 'realtime.item',
      role: 'user',
      status: 'completed',
      content: [{ type: 'input_audio', transcript: null }],
    };
  }

  /** conversation.item.added (and .done for items complete on arrival), remembering the item. */
  private addItem(item: ConversationItem, done = true): ServerEvent[] {
    const previous = this.lastItemId;
    this.items.set(item.id, item);
    this.previous.set(item.id, previous);
    this.lastItemId = item.id;
    while (this.items.size > MAX_ITEMS) {
      const oldest = this.items.keys().next().value as string;
      this.items.delete(oldest);
      this.previous.delete(oldest);
    }
    const added = this.ev('conversation.item.added', { item, previous_item_id: previous });
    return done ? [added, this.ev('conversation.item.done', { item, previous_item_id: previous })] : [added];
  }

  private previousOf(itemId: string): string | null {
    return this.previous.get(itemId) ?? null;
  }

  private knownItem(id: unknown): ConversationItem | undefined {
    return typeof id === 'string' ? this.items.get(id) : undefined;
  }

  private missingItem(id: unknown, clientId: string | undefined): ClientEventResult {
    if (typeof id !== 'string')
      return this.fail(clientId, 'missing_required_parameter', "missing 'item_id'", 'item_id');
    return this.fail(clientId, 'item_not_found', `no item with id ${id.slice(0, 64)}`, 'item_id');
  }

  private fail(
    clientId: string | undefined,
    code: string,
    message: string,
    param?: string,
  ): ClientEventResult {
    return {
      events: [
        this.ev('error', {
          error: {
            type: 'invalid_request_error',
            code,
            message,
            param: param ?? null,
            event_id: clientId ?? null,
          },
        }),
      ],
      actions: [],
    };
  }

  private ms(): number {
    return Math.max(0, Math.round(this.opts.now()));
  }

  private ev(type: string, fields: Record<string, unknown>): ServerEvent {
    return { type, event_id: this.opts.newId('event'), ...fields };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
