import type { Logger } from '@parley/shared/log.js';
import type { TransceiverConfig } from '../config.js';
import type { AgentFactory } from './agent.js';
import { echoAgent, rtpEchoAgent } from './echo-agent.js';
import { grpcAgent } from './grpc/grpc-agent.js';
import { realtimeAgent } from './realtime/realtime-agent.js';

export interface AgentRegistry {
  agents: ReadonlyMap<string, AgentFactory>;
  /** Closes shared connections (the gRPC channel). */
  close(): void;
}

/**
 * The agents a transceiver offers, by name: `echo` and `rtp-echo` always;
 * `grpc` when PARLEY_AGENT_GRPC_URL is set; `realtime` when
 * PARLEY_REALTIME_URL is set. Sessions pick one with ?agent=, else
 * PARLEY_DEFAULT_AGENT.
 */
export function buildAgentRegistry(config: TransceiverConfig, log: Logger): AgentRegistry {
  const agents = new Map<string, AgentFactory>([
    ['echo', echoAgent],
    ['rtp-echo', rtpEchoAgent],
  ]);
  const closers: (() => void)[] = [];
  if (config.PARLEY_AGENT_GRPC_URL) {
    const grpc = grpcAgent({
      target: config.PARLEY_AGENT_GRPC_URL,
      sampleRate: config.PARLEY_AGENT_GRPC_SAMPLE_RATE,
      codec: config.PARLEY_AGENT_GRPC_CODEC,
      connectTimeoutMs: config.PARLEY_AGENT_CONNECT_TIMEOUT_MS,
      log,
    });
    agents.set('grpc', grpc);
    closers.push(() => grpc.close());
  }
  if (config.PARLEY_REALTIME_URL) {
    agents.set(
      'realtime',
      realtimeAgent({
        url: config.PARLEY_REALTIME_URL,
        apiKey: config.PARLEY_REALTIME_API_KEY,
        connectTimeoutMs: config.PARLEY_AGENT_CONNECT_TIMEOUT_MS,
        log,
      }),
    );
  }
  return {
    agents,
    close: () => {
      for (const c of closers) c();
    },
  };
}
