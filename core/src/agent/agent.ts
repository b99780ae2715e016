/**
 * The seam between a WebRTC session and a voice model. Transport-neutral:
 * the session hands the agent encoded audio frames as they arrive, and the
 * agent hands back frames to play. A real model bridge (gRPC, Realtime-style
 * WebSocket) implements the same interface.
 */
export interface AudioFrame {
  /** Opus payload of one RTP packet. */
  payload: Buffer;
  /** Media time of the frame on a 48 kHz clock, as in the RTP timestamp. */
  timestamp: number;
  /** Local receive time (ms, monotonic), for latency accounting. */
  receivedAt: number;
}

export interface AgentOutput {
  /** Queue one frame for the client. `timestamp` is on the same 48 kHz clock. */
  sendAudio(frame: { payload: Buffer; timestamp: number }): void;
  /** The agent failed or ended; the session closes with this reason. */
  end(reason: string): void;
}

export interface Agent {
  readonly name: string;
  onAudio(frame: AudioFrame): void;
  /** The user interrupted: drop anything queued. */
  interrupt(): void;
  close(): void;
}

export type AgentFactory = (output: AgentOutput, ctx: { sessionId: string }) => Agent;
