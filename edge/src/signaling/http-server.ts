import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type Counter, metrics } from '@opentelemetry/api';
import type { Logger } from '@parley/shared/log.js';
import type { MiddlewareHandler } from 'hono';
import { PROBLEM_CONTENT_TYPE, problemBody, problemResponse, statusTitle } from './problem.js';

/** Connection-level limits of the signaling listener (see README, Configuration). */
export interface HttpLimits {
  /** The request line and headers must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this are refused by the kernel listener (Node drops them at accept). */
  maxConnections: number;
  /** Requests being handled at once; more get 503 with Retry-After and Connection: close. */
  maxInFlight: number;
  /**
   * An unread request body up to this size is read and discarded after an
   * early response (413, 415, 401...) so the connection stays usable; a larger
   * or unknown-length one gets `Connection: close` instead.
   */
  drainLimitBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 10_000,
  maxInFlight: 1_024,
  drainLimitBytes: 256 * 1024,
};

type NodeEnv = { Bindings: { incoming?: IncomingMessage } };

/**
 * Outermost middleware: a cap on requests in flight, and the decision, for a
 * response sent before the body was read, between draining that body (small,
 * known length: the keep-alive connection stays usable) and telling the client
 * `Connection: close` (large or chunked: reading it would be the attacker's
 * choice of cost). Either way the client's next request never lands on a
 * socket the server is about to close.
 */
export function connectionGuard(limits: HttpLimits): MiddlewareHandler<NodeEnv> {
  let inFlight = 0;
  return async (c, next) => {
    const incoming = c.env?.incoming;
    if (inFlight >= limits.maxInFlight) {
      const res = problemResponse(503, {
        detail: 'too many requests in progress on this edge',
        headers: { 'Retry-After': '1', Connection: 'close' },
      });
      return res;
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
    if (!incoming || incoming.complete || incoming.readableEnded) return;
    const declared = Number(incoming.headers['content-length']);
    const drainable =
      incoming.headers['transfer-encoding'] === undefined &&
      Number.isFinite(declared) &&
      declared <= limits.drainLimitBytes;
    if (!drainable) {
      // Node ends the connection after this response; the client must not reuse it.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('Connection', 'close');
    }
    // Node's ServerResponse reads and discards the rest of the body once the
    // response is done (the request's _dump), bounded by requestTimeoutMs.
  };
}

/** The HTTP status for an error Node's parser (or its timers) raised before any handler ran. */
export function statusForClientError(err: NodeJS.ErrnoException): number {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return 408;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    default:
      return 400;
  }
}

const CLIENT_ERROR_DETAIL: Record<number, string> = {
  400: 'malformed HTTP request',
  408: 'the request did not arrive in time',
  413: 'request too large',
  431: 'request headers too large',
};

let clientErrorCounter: Counter | undefined;
/** Requests Node refused before any handler ran (they never reach parley_edge_http_requests_total). */
function clientErrors(): Counter {
  clientErrorCounter ??= metrics.getMeter('parley.edge').createCounter('parley_edge_http_client_errors', {
    description: "Requests refused by Node's HTTP parser or its timers, by the status answered",
  });
  return clientErrorCounter;
}

/**
 * Answers errors raised by Node's HTTP parser and request timers as
 * problem+json instead of Node's bare text, then closes the connection: the
 * parser's state after a framing error cannot be trusted for another request.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket, log: Logger): void {
  // A reset peer cannot read an answer, and a response already under way cannot get a second one.
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const status = statusForClientError(err);
  log.debug({ code: err.code, status }, 'http client error');
  clientErrors().add(1, { status: String(status) });
  const body = JSON.stringify(problemBody(status, { detail: CLIENT_ERROR_DETAIL[status] }));
  socket.end(
    `HTTP/1.1 ${status} ${statusTitle(status)}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  // end() half-closes; a peer that never closes its side must not hold the socket.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/** A node:http server running the Hono app with the limits above, listening. */
export function listenHttp(
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
  host: string,
  port: number,
  limits: HttpLimits,
  log: Logger,
): Promise<{ server: Server; address: AddressInfo }> {
  // autoCleanupIncoming off: @hono/node-server would otherwise drain for 500 ms
  // and then close the socket of a response that said keep-alive.
  const listener = getRequestListener(fetch, { autoCleanupIncoming: false });
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above on this interval (30 s by default).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 4)),
    },
    listener,
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(err, socket, log),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ server, address: server.address() as AddressInfo });
    });
  });
}
