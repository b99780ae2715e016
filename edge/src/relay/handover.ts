import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@parley/shared/log.js';
import { z } from 'zod';

/**
 * Planned relay restart with no packet lost (PARLEY_RELAY_REUSE_PORT=handover).
 *
 * The old and the new process share the public UDP port through
 * SO_REUSEPORT. A relay in handover mode steers its port's SO_REUSEPORT
 * group to its own socket (a one-instruction classic BPF program), so a
 * process that joins the port later receives nothing until it takes over:
 *
 *   1. the new process binds the port (joining the group, still receiving
 *      nothing) and connects to the old one over an abstract Unix socket
 *      named after the port;
 *   2. both prove they hold the routing-token signing key (HMAC over a
 *      nonce each), the old one sends its UDP flow table (client address,
 *      port, routing token), and the new one rebuilds every flow, each
 *      token re-verified as if read from a Binding Request;
 *   3. the new process steers the group to its own socket: from that
 *      datagram on, every client datagram reaches the new process, which
 *      already has its flow; it tells the old one so;
 *   4. the old process keeps forwarding what is still queued on its socket
 *      and the transceivers' replies on its upstream sockets (a transceiver
 *      moves a session to the new relay address on the first SRTP packet
 *      that authenticates from it), until nothing has crossed it for a
 *      quiet period or a bound passes, then exits.
 *
 * Abstract Unix sockets live in the network namespace, not the filesystem,
 * so any local user could connect: nothing is sent, and no request is
 * obeyed, before the peer proved it holds the key.
 */

export interface HandoverFlow {
  address: string;
  port: number;
  token: string;
}

/** The abstract Unix socket name (leading NUL) for one public address and port. */
export function handoverSocketName(host: string, port: number): string {
  return `\0parley-relay-handover:${host}:${port}`;
}

export class HandoverError extends Error {
  override readonly name = 'HandoverError';
}

const Challenge = z.object({ t: z.literal('challenge'), nonce: z.string().regex(/^[0-9a-f]{64}$/) });
const Hello = z.object({
  t: z.literal('hello'),
  proof: z.string().regex(/^[0-9a-f]{64}$/),
  nonce: z.string().regex(/^[0-9a-f]{64}$/),
});
const Flows = z.object({
  t: z.literal('flows'),
  proof: z.string().regex(/^[0-9a-f]{64}$/),
  flows: z.array(
    z.object({
      address: z.string().max(64),
      port: z.number().int().min(1).max(65535),
      token: z.string().max(256),
    }),
  ),
});
const Steered = z.object({ t: z.literal('steered') });

/** Before the peer has proved the key, a line longer than this ends the connection. */
const MAX_UNAUTHENTICATED_LINE = 4_096;
/** 100k flows of ~150 bytes each: the flow list is one line. */
const MAX_FLOWS_LINE = 64 * 1024 * 1024;

function proof(secret: Buffer, role: 'old' | 'new', nonce: string): string {
  return createHmac('sha256', secret).update(`parley-relay-handover:${role}:${nonce}`).digest('hex');
}

function proofOk(secret: Buffer, role: 'old' | 'new', nonce: string, got: string): boolean {
  const want = Buffer.from(proof(secret, role, nonce), 'hex');
  const have = Buffer.from(got, 'hex');
  return have.length === want.length && timingSafeEqual(have, want);
}

/** Newline-delimited JSON on a socket: one callback per line, bounded line length. */
function readLines(sock: Socket, maxLine: () => number, onLine: (line: string) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      onLine(line);
      if (sock.destroyed) return;
    }
    if (buf.length > maxLine()) sock.destroy();
  });
}

function send(sock: Socket, msg: unknown): void {
  sock.write(`${JSON.stringify(msg)}\n`);
}

export interface HandoverServerHooks {
  /** The flow table to hand over. */
  flows(): HandoverFlow[];
  /** The successor now receives every datagram: drain and exit. Called at most once. */
  steered(): void;
  /**
   * The successor's connection closed after it steered the port (it
   * crashed, or was stopped) while this relay still runs: take the port
   * back. The server no longer listens then; start a new one.
   */
  successorLost(): void;
}

export interface HandoverServer {
  close(): Promise<void>;
}

/**
 * The running relay's side: waits for a successor. Listening fails with
 * EADDRINUSE while another process serves the name (the caller retries).
 */
export async function serveHandover(
  name: string,
  secret: Buffer,
  hooks: HandoverServerHooks,
  log: Logger,
): Promise<HandoverServer> {
  let handedOver = false;
  const conns = new Set<Socket>();
  const server: Server = createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => undefined);
    const nonce = randomBytes(32).toString('hex');
    let authed = false;
    send(sock, { t: 'challenge', nonce });
    readLines(
      sock,
      () => MAX_UNAUTHENTICATED_LINE,
      (line) => {
        try {
          const msg = JSON.parse(line) as unknown;
          if (!authed) {
            const hello = Hello.parse(msg);
            if (!proofOk(secret, 'new', nonce, hello.proof)) throw new HandoverError('bad proof');
            authed = true;
            const flows = hooks.flows();
            send(sock, { t: 'flows', proof: proof(secret, 'old', hello.nonce), flows });
            log.info({ flows: flows.length }, 'relay handover: flow table sent to the successor');
            return;
          }
          Steered.parse(msg);
          if (handedOver) return;
          handedOver = true;
          // The name is the successor's now (it listens for the next handover).
          server.close();
          // A healthy successor keeps this connection open until we exit.
          sock.once('close', () => hooks.successorLost());
          hooks.steered();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'relay handover: peer refused');
          sock.destroy();
        }
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(name, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  return {
    close: async () => {
      for (const c of conns) c.destroy();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface TakeOverHooks {
  /** Rebuilds the predecessor's flows; returns how many opened. */
  importFlows(flows: HandoverFlow[]): number;
  /** Steers the port's SO_REUSEPORT group to this process. */
  steer(): void;
}

export interface TakeOver {
  flowsReceived: number;
  flowsOpened: number;
  /** Resolves when the predecessor closed the connection (it exits after draining). */
  predecessorGone: Promise<void>;
  /** Closes the connection (this relay stops): a predecessor still draining takes the port back. */
  release(): void;
}

/**
 * The new relay's side. Undefined when no relay serves the name (a fresh
 * start). Throws HandoverError when a peer answers but the exchange fails
 * (wrong key, timeout): the caller must not steer then.
 */
export async function takeOver(
  name: string,
  secret: Buffer,
  hooks: TakeOverHooks,
  timeoutMs = 10_000,
): Promise<TakeOver | undefined> {
  const sock = createConnection(name);
  const connected = await new Promise<boolean>((resolve, reject) => {
    sock.once('connect', () => resolve(true));
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new HandoverError(`cannot reach the running relay: ${err.message}`, { cause: err }));
    });
  });
  if (!connected) {
    sock.destroy();
    return undefined;
  }
  sock.on('error', () => undefined);
  const predecessorGone = new Promise<void>((r) => sock.once('close', () => r()));
  const myNonce = randomBytes(32).toString('hex');
  let stage: 'challenge' | 'flows' | 'done' = 'challenge';
  try {
    return await new Promise<TakeOver>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new HandoverError(`no handover within ${timeoutMs} ms (stage ${stage})`)),
        timeoutMs,
      );
      sock.once('close', () => {
        clearTimeout(timer);
        reject(new HandoverError(`the running relay closed the handover at stage ${stage}`));
      });
      readLines(
        sock,
        () => (stage === 'flows' ? MAX_FLOWS_LINE : MAX_UNAUTHENTICATED_LINE),
        (line) => {
          try {
            const msg = JSON.parse(line) as unknown;
            if (stage === 'challenge') {
              const { nonce } = Challenge.parse(msg);
              send(sock, { t: 'hello', proof: proof(secret, 'new', nonce), nonce: myNonce });
              stage = 'flows';
              return;
            }
            if (stage !== 'flows') return;
            const m = Flows.parse(msg);
            if (!proofOk(secret, 'old', myNonce, m.proof))
              throw new HandoverError('the running relay did not prove the key');
            const flowsOpened = hooks.importFlows(m.flows);
            hooks.steer();
            send(sock, { t: 'steered' });
            stage = 'done';
            clearTimeout(timer);
            resolve({
              flowsReceived: m.flows.length,
              flowsOpened,
              predecessorGone,
              release: () => sock.destroy(),
            });
          } catch (err) {
            clearTimeout(timer);
            reject(
              err instanceof HandoverError ? err : new HandoverError((err as Error).message, { cause: err }),
            );
          }
        },
      );
    });
  } catch (err) {
    sock.destroy();
    throw err;
  }
}
