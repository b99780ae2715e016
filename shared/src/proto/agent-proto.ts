import { fileURLToPath } from 'node:url';

/**
 * Where the versioned .proto files live: shared/proto, beside src/ and dist/.
 * Resolved from this module's own location, which is two levels below the
 * package root whether it runs from src/ (tests) or dist/ (built).
 */
export const PROTO_ROOT = fileURLToPath(new URL('../../proto/', import.meta.url));

/** The voice-agent protocol, version 1 (service parley.agent.v1.VoiceAgent). */
export const AGENT_PROTO_V1 = 'parley/agent/v1/agent.proto';
