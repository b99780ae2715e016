/**
 * RFC 9457 problem details. Every error the signaling API returns goes
 * through here, so clients parse one shape and nothing else (no stack
 * traces, no framework default bodies) can leak out.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Problem types specific to Parley. They are opaque identifiers (RFC 9457
 * says clients should not dereference them), so a URN avoids promising a
 * documentation URL we do not host. Plain HTTP failures use "about:blank",
 * for which the RFC says the title must be the status phrase.
 */
export const ProblemType = {
  badOffer: 'urn:parley:problem:bad-offer',
  noTransceivers: 'urn:parley:problem:no-transceivers',
  noCapacity: 'urn:parley:problem:no-capacity',
  draining: 'urn:parley:problem:draining',
  transceiverTimeout: 'urn:parley:problem:transceiver-timeout',
  transceiverUnavailable: 'urn:parley:problem:transceiver-unavailable',
  transceiverError: 'urn:parley:problem:transceiver-error',
  sessionNotFound: 'urn:parley:problem:session-not-found',
} as const;

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** Extension members (RFC 9457 §3.2), e.g. the broker's error code. */
  [extension: string]: unknown;
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusTitle(status: number): string {
  return STATUS_TITLES[status] ?? 'Error';
}

export interface ProblemInit {
  detail?: string;
  /** Defaults to about:blank with the status phrase as title. */
  type?: string;
  title?: string;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

export function problemBody(status: number, init: ProblemInit = {}): ProblemDetails {
  const body: ProblemDetails = {
    ...init.extensions,
    type: init.type ?? 'about:blank',
    title: init.title ?? statusTitle(status),
    status,
  };
  if (init.detail !== undefined) body.detail = init.detail;
  return body;
}

/** A complete problem+json response. */
export function problemResponse(status: number, init: ProblemInit = {}): Response {
  return new Response(JSON.stringify(problemBody(status, init)), {
    status,
    headers: { ...init.headers, 'Content-Type': PROBLEM_CONTENT_TYPE },
  });
}
