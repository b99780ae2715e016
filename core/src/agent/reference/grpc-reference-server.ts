import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@parley/shared/log.js';
import {
  voiceAgentProto,
  type WireAudioChunk,
  type WireAudioCodec,
  type WireServerMessage,
} from '../grpc/agent-proto.js';
import { OpusTurns } from './opus-turns.js';
import { type ResponderOptions, TurnResponder } from './turn-responder.js';

/** What the reference server receives (proto-loader decoding, camelCase, oneof `kind`). */
export interface ClientWire {
  kind?: 'start' | 'audio' | 'speechStarted' | 'speechStopped' | 'interrupt';
  start?: { sessionId: string; inputSampleRate: number; codec?: WireAudioCodec };
  audio?: WireAudioChunk;
}

export interface ReferenceServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A small model server implementing parley.agent.v1.VoiceAgent: each user
 * turn (ended by the transceiver's SpeechStopped) is answered with a chime
 * at 24 kHz, streamed at twice real time; Interrupt stops it. In an Opus
 * session (SessionStart.codec OPUS) it finds turns itself in the decoded
 * packets and answers with the chime as 20 ms Opus packets (opus-turns.ts).
 */
export async function startGrpcReferenceServer(opts: {
  host?: string;
  port?: number;
  log: Logger;
  responder?: ResponderOptions;
  /** Sees every message of every stream, both ways (tests check what crossed the wire). */
  tap?: (dir: 'in' | 'out', msg: ClientWire | Omit<WireServerMessage, 'kind'>) => void;
}): Promise<ReferenceServer> {
  const { service } = voiceAgentProto();
  const server = new grpc.Server();
  server.addService(service, {
    Converse: (call: grpc.ServerDuplexStream<ClientWire, WireServerMessage>) => {
      const send = (msg: Omit<WireServerMessage, 'kind'>) => {
        if (call.writableEnded || call.destroyed) return;
        opts.tap?.('out', msg);
        call.write(msg as WireServerMessage);
      };
      let session = '';
      let opus: OpusTurns | undefined;
      const responder = new TurnResponder(
        {
          audio: (pcm, sampleRate) =>
            opus
              ? opus.replyAudio(pcm, sampleRate)
              : send({
                  audio: {
                    pcm: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength),
                    sampleRate,
                    mediaMs: 0,
                  },
                }),
          responseStarted: (responseId) => send({ responseStarted: { responseId } }),
          responseDone: (responseId, cancelled) => {
            if (cancelled) opus?.clear();
            else opus?.flush();
            send({ responseDone: { responseId, cancelled } });
          },
          transcript: (role, text, final) =>
            send({ transcript: { role: role === 'user' ? 'USER' : 'AGENT', text, final } }),
        },
        opts.responder,
      );
      const startOpus = () =>
        new OpusTurns({
          heard: (samples, rate) => responder.userAudio(samples, rate),
          speechStarted: (mediaMs) => {
            // The transceiver drops any reply audio it still has queued (we produce faster than it
            // plays, so there may be some after we are done), and a reply under way stops.
            send({ userSpeechStarted: { mediaMs: Math.round(mediaMs) } });
            responder.interrupt();
          },
          speechStopped: () => responder.turnEnded(),
          packet: (packet) => send({ audio: { opus: packet, sampleRate: 48_000, mediaMs: 0 } }),
        });
      call.on('data', (m: ClientWire) => {
        opts.tap?.('in', m);
        switch (m.kind) {
          case 'start':
            session = m.start?.sessionId ?? '';
            if (m.start?.codec === 'OPUS') opus = startOpus();
            opts.log.info(
              { session, rate: m.start?.inputSampleRate, codec: m.start?.codec },
              'reference agent: session started',
            );
            break;
          case 'audio':
            if (!m.audio) break;
            if (opus) {
              if (m.audio.opus?.length) opus.userPacket(m.audio.opus, m.audio.mediaMs);
            } else responder.userAudio((m.audio.pcm?.length ?? 0) / 2, m.audio.sampleRate);
            break;
          case 'speechStopped':
            responder.turnEnded();
            break;
          case 'interrupt':
            responder.interrupt();
            break;
        }
      });
      const stop = () => {
        responder.close();
        opus?.close();
        opus = undefined;
      };
      const finish = () => {
        stop();
        if (!call.writableEnded) call.end();
      };
      call.on('end', finish);
      call.on('error', stop);
      call.on('cancelled', stop);
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
