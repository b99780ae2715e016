/**
 * The seam between a WebRTC session and a voice model. Transport-neutral and
 * small: decoded audio frames in, audio and events out, `interrupt()`,
 * `close()`. The session owns everything codec- and network-shaped (jitter
 * buffer, Opus, resampling, pacing, VAD); an agent sees mono PCM16 at the
 * rate it asks for. Bridges to real models (gRPC, Realtime-style WebSocket)
 * implement the same interface.
 */
export interface UserAudio {
  /** Mono PCM16 at the agent's `sampleRate`, normally 20 ms. */
  pcm: Int16Array;
  /** Media time of the first sample, ms since the session's first frame. */
  mediaMs: number;
  /** Whether our VAD counts the user as speaking. */
  speech: boolean;
}

export type AgentEvent =
  /** The agent began producing a reply. */
  | { type: 'response_started'; id?: string }
  /** The reply is complete (or was cancelled by an interrupt). */
  | { type: 'response_done'; id?: string; status: 'completed' | 'cancelled' }
  | { type: 'transcript'; role: 'user' | 'agent'; text: string; final: boolean }
  /** The agent's own turn detection heard the user start (e.g. Realtime server VAD): a barge-in signal. */
  | { type: 'user_speech_started' }
  | { type: 'user_speech_stopped' };

export interface AgentOutput {
  /** Audio to play to the user: mono PCM16 at `sampleRate` (any Opus-independent rate), any length. */
  audio(pcm: Int16Array, sampleRate: number): void;
  event(e: AgentEvent): void;
  /** The agent failed or ended; the session tells the client why and closes. */
  end(reason: string): void;
}

export interface Agent {
  readonly name: string;
  /** Rate of the PCM this agent wants from us (the pipeline resamples to it). */
  readonly sampleRate: number;
  /** Whether user speech over this agent's audio stops it (false for a mirror such as echo). */
  readonly bargeIn: boolean;
  /**
   * For audio made in step with the user's (echo): the most 20 ms frames that
   * may wait to go out; staler ones are dropped so a burst of inbound packets
   * cannot become a standing delay. Default 50 (a memory bound: the policy is
   * by age, OutboundOptions.maxLiveAgeMs).
   */
  readonly maxLiveQueue?: number;
  /**
   * True when `onAudio` is done with `frame.pcm` once it returns (it copies or
   * converts what it keeps): the pipeline then reuses the buffer for a later
   * frame. Agents that may read it later (a stream that buffers the message)
   * leave it unset, and every frame stays theirs.
   */
  readonly copiesAudio?: boolean;
  /**
   * Resolves when the agent can take audio (a bridge has connected); session
   * setup waits for it, so an unreachable model fails the offer instead of
   * the call. Rejects with a message for the client.
   */
  ready?(): Promise<void>;
  onAudio(frame: UserAudio): void;
  /** Our VAD's view of the user's turn. */
  onSpeech(e: { type: 'speech_started' | 'speech_stopped'; mediaMs: number }): void;
  /** The user barged in: drop anything queued and stop the current reply. */
  interrupt(): void;
  close(): void;
  /**
   * Only for agents that work on encoded audio (the transport RTT reflector,
   * a gRPC agent in Opus mode): when present, the session hands over each
   * RTP payload unchanged, as it arrives, and skips the PCM pipeline (jitter
   * buffer, codec, VAD, resampling, pacing), so `onAudio`/`onSpeech` are
   * never called and `output.audio` is not played: such an agent answers
   * through `ctx.sendRtpPayload`. Its events still reach the client.
   */
  onRtpPayload?(payload: Buffer, timestamp: number): void;
}

export interface AgentContext {
  sessionId: string;
  /**
   * Encoded output for `onRtpPayload` agents; ignored otherwise. Sent at
   * once: pacing is the agent's. `marker` flags a talkspurt's first packet.
   */
  sendRtpPayload(payload: Buffer, timestamp: number, marker?: boolean): void;
}

export type AgentFactory = (output: AgentOutput, ctx: AgentContext) => Agent;
