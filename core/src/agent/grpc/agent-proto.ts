import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AGENT_PROTO_V1, PROTO_ROOT } from '@parley/shared/proto/agent-proto.js';

/**
 * parley.agent.v1, loaded at run time from shared/proto (no generated code).
 * Field names are camelCase here (proto-loader's default); uint64 arrive as
 * numbers, enums as their names, and the `kind` oneof names the set field.
 */
export interface WireAudioChunk {
  /** Always present on messages received (empty when unset); omitted in Opus chunks we send. */
  pcm?: Buffer;
  sampleRate: number;
  mediaMs: number;
  /** One 20 ms Opus packet (an RTP payload), in sessions whose SessionStart says OPUS. */
  opus?: Buffer;
}

export type WireAudioCodec = 'AUDIO_CODEC_UNSPECIFIED' | 'PCM16' | 'OPUS';

export type WireClientMessage =
  | {
      start: {
        sessionId: string;
        inputSampleRate: number;
        metadata?: Record<string, string>;
        codec?: WireAudioCodec;
      };
    }
  | { audio: WireAudioChunk }
  | { speechStarted: { mediaMs: number } }
  | { speechStopped: { mediaMs: number } }
  | { interrupt: Record<string, never> };

export interface WireServerMessage {
  kind?: 'audio' | 'responseStarted' | 'responseDone' | 'transcript' | 'userSpeechStarted' | 'error';
  audio?: WireAudioChunk;
  responseStarted?: { responseId: string };
  responseDone?: { responseId: string; cancelled: boolean };
  transcript?: { role: 'ROLE_UNSPECIFIED' | 'USER' | 'AGENT'; text: string; final: boolean };
  userSpeechStarted?: { mediaMs: number };
  error?: { code: string; message: string };
}

export type ConverseStream = grpc.ClientDuplexStream<WireClientMessage, WireServerMessage>;

export interface VoiceAgentClient extends grpc.Client {
  Converse(): ConverseStream;
}

let loaded: { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } | undefined;

export function voiceAgentProto(): {
  service: grpc.ServiceDefinition;
  Client: grpc.ServiceClientConstructor;
} {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(AGENT_PROTO_V1, {
    includeDirs: [PROTO_ROOT],
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    parley: { agent: { v1: { VoiceAgent: grpc.ServiceClientConstructor } } };
  };
  const Client = pkg.parley.agent.v1.VoiceAgent;
  loaded = { service: Client.service, Client };
  return loaded;
}

/** `host:port`, `grpc://host:port` (plaintext) or `grpcs://host:port` (TLS) → address and credentials. */
export function parseGrpcTarget(url: string): { address: string; credentials: grpc.ChannelCredentials } {
  const m = /^(grpcs?):\/\/(.+)$/.exec(url);
  const address = (m ? m[2] : url) as string;
  if (!/^[^\s/]+:\d+$/.test(address))
    throw new Error(`bad gRPC target "${url}": use host:port or grpc[s]://host:port`);
  return {
    address,
    credentials: m?.[1] === 'grpcs' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
  };
}
