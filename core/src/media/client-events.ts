/**
 * JSON events the transceiver sends the client on the `events` data channel.
 * `t` is ms since the session's pipeline started. Field names are stable: the
 * browser page and SDK consumers read them.
 */
export type AgentState = 'listening' | 'thinking' | 'speaking';

export interface TurnLatency {
  /** Last inbound speech frame received → first agent packet sent. */
  totalMs: number;
  /** Ours: inbound (jitter buffer, decode, resample, VAD) + outbound (resample, encode, pacing). */
  pipelineMs: number;
  inboundMs: number;
  outboundMs: number;
  /** The agent's own time, from our handing it the last speech frame to its first audio. */
  agentMs: number;
  /** Part of agentMs spent waiting for our VAD to call the turn over (hangover), when the agent waits for it. */
  endpointMs: number;
}

export type ClientEventBody =
  | { type: 'session.ready'; sessionId: string; agent: string; agentSampleRate: number }
  | { type: 'agent.state'; state: AgentState }
  | { type: 'speech.started' }
  | { type: 'speech.stopped' }
  | { type: 'response.started' }
  | { type: 'response.done'; status: 'completed' | 'cancelled' }
  | { type: 'transcript'; role: 'user' | 'agent'; text: string; final: boolean }
  /**
   * Barge-in: agent audio stopped; `detectMs` from the first speech frame's arrival to the stop
   * (the hold), `confirmMs` to the interruption (enough speech that it was not a backchannel).
   */
  | { type: 'barge_in'; droppedFrames: number; detectMs: number; confirmMs?: number }
  | ({ type: 'latency.turn' } & TurnLatency)
  /** Periodic summary of what a frame spends inside the transceiver (echo-style agents). */
  | { type: 'latency.pipeline'; frames: number; p50Ms: number; p95Ms: number }
  | { type: 'session.ended'; reason: string };

export type ClientEvent = ClientEventBody & { t: number };
