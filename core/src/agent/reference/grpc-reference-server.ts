import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@parley/shared/log.js';
import { voiceAgentProto, type WireAudioChunk, type WireServerMessage } from '../grpc/agent-proto.js';
import { type ResponderOptions, TurnResponder } from './turn-responder.js';

/** What the reference server receives (proto-loader decoding, camelCase, oneof `kind`). */
interface ClientWire {
  kind?: 'start' | 'audio' | 'speechStarted' | 'speechStopped' | 'interrupt';
  start?: { sessionId: string; inputSampleRate: number };
  audio?: WireAudioChunk;
}

export interface ReferenceServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A small model server implementing parley.agent.v1.VoiceAgent: each user
 * turn (ended by the transceiver's SpeechStopped) is answered with a chime
 * at 24 kHz, streamed at twice real time; Interrupt stops it.
 */
export async function startGrpcReferenceServer(opts: {
  host?: string;
  port?: number;
  log: Logger;
  responder?: ResponderOptions;
}): Promise<ReferenceServer> {
  const { service } = voiceAgentProto();
  const server = new grpc.Server();
  server.addService(service, {
    Converse: (call: grpc.ServerDuplexStream<ClientWire, WireServerMessage>) => {
      const send = (msg: Omit<WireServerMessage, 'kind'>) => {
        if (!call.writableEnded && !call.destroyed) call.write(msg as WireServerMessage);
      };
      let session = '';
      const responder = new TurnResponder(
        {
          audio: (pcm, sampleRate) =>
            send({
              audio: { pcm: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), sampleRate, mediaMs: 0 },
            }),
          responseStarted: (responseId) => send({ responseStarted: { responseId } }),
          responseDone: (responseId, cancelled) => send({ responseDone: { responseId, cancelled } }),
          transcript: (role, text, final) =>
            send({ transcript: { role: role === 'user' ? 'USER' : 'AGENT', text, final } }),
        },
        opts.responder,
      );
      call.on('data', (m: ClientWire) => {
        switch (m.kind) {
          case 'start':
            session = m.start?.sessionId ?? '';
            opts.log.info({ session, rate: m.start?.inputSampleRate }, 'reference agent: session started');
            break;
          case 'audio':
            if (m.audio) responder.userAudio(m.audio.pcm.length / 2, m.audio.sampleRate);
            break;
          case 'speechStopped':
            responder.turnEnded();
            break;
          case 'interrupt':
            responder.interrupt();
            break;
        }
      });
      const finish = () => {
        responder.close();
        if (!call.writableEnded) call.end();
      };
      call.on('end', finish);
      call.on('error', () => responder.close());
      call.on('cancelled', () => responder.close());
    },
  });
  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${host.includes(':') ? `[${host}]` : host}:${opts.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Streams stay open while sessions last; do not wait on them forever.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000).unref();
      }),
  };
}
