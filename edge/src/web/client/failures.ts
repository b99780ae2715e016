/** Everything that can stop a call, as the page explains it to a person. */
export type FailureKind =
  | 'insecure-context'
  | 'mic-denied'
  | 'no-mic'
  | 'mic-busy'
  | 'mic-failed'
  | 'edge-unreachable'
  | 'unauthorized'
  | 'unavailable'
  | 'edge-rejected'
  | 'ice-failed'
  | 'dtls-failed'
  | 'connection-lost'
  | 'setup-failed'
  /** The edge reported session.ended (detail: the reason, e.g. transceiver_lost). */
  | 'session-ended'
  | 'cancelled';

export interface FailureInit {
  /** The server's own words (problem+json `detail`) or the browser's error message. */
  detail?: string;
  status?: number;
  /** From Retry-After on a 503. */
  retryAfterSeconds?: number;
  /** The relay the answer named, for ICE failures. */
  relay?: string;
  /** The edge the page talked to, for unreachable errors. */
  edge?: string;
}

export class CallFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly info: FailureInit = {},
  ) {
    super(info.detail ? `${kind}: ${info.detail}` : kind);
    this.name = 'CallFailure';
  }
}

export interface FailureMessage {
  title: string;
  hint: string;
}

/** The words shown to the person; pure, so every case is unit-tested. */
export function describeFailure(f: CallFailure): FailureMessage {
  const { detail, status, retryAfterSeconds, relay, edge } = f.info;
  switch (f.kind) {
    case 'insecure-context':
      return {
        title: 'The microphone needs a secure page',
        hint: 'Browsers only share the microphone with HTTPS pages or localhost. Open this page over HTTPS or on 127.0.0.1.',
      };
    case 'mic-denied':
      return {
        title: 'Microphone access is blocked',
        hint: "Allow the microphone for this site (the icon in the address bar, or the browser's site settings), then press Talk again.",
      };
    case 'no-mic':
      return {
        title: 'No microphone found',
        hint: 'Connect a microphone or headset, then press Talk again.',
      };
    case 'mic-busy':
      return {
        title: 'The microphone could not be started',
        hint: 'Another application may be using it. Close that application and press Talk again.',
      };
    case 'mic-failed':
      return { title: 'The microphone could not be opened', hint: detail ?? 'Press Talk to try again.' };
    case 'edge-unreachable':
      return {
        title: 'Cannot reach the Parley edge',
        hint: `No answer from ${edge ?? 'the edge'}. Check that it is running (npm start) and reachable from this browser.`,
      };
    case 'unauthorized':
      return {
        title: 'The edge refused the token',
        hint: `${sentence(detail ?? 'the token was not accepted')} Paste a valid token under "Token", or open this page with ?token=<jwt>.`,
      };
    case 'unavailable':
      return {
        title: 'No voice capacity right now',
        hint: `${sentence(detail ?? 'the edge could not place the call')} ${
          retryAfterSeconds !== undefined ? `Try again in ${retryAfterSeconds} s.` : 'Try again shortly.'
        }`,
      };
    case 'edge-rejected':
      return {
        title: `The edge answered ${status ?? 'with an error'}`,
        hint: sentence(detail ?? 'the call could not be set up'),
      };
    case 'ice-failed':
      return {
        title: 'Could not reach the relay',
        hint: `No media path to ${relay ? `the relay at ${relay}` : 'the relay'}. UDP to it may be blocked by a firewall or VPN.`,
      };
    case 'dtls-failed':
      return {
        title: 'Secure media setup failed',
        hint: 'The relay was reached, but the DTLS handshake with the transceiver did not complete. Press Talk to try again.',
      };
    case 'connection-lost':
      return {
        title: 'The call dropped',
        hint: 'The media path through the relay was lost. Press Talk to call again.',
      };
    case 'setup-failed':
      return {
        title: 'The call could not be set up',
        hint: sentence(detail ?? 'an unexpected error occurred'),
      };
    case 'session-ended':
      return detail === 'transceiver_lost'
        ? {
            title: 'The voice server went away',
            hint: 'The server carrying this call stopped answering (transceiver_lost). Press Talk to call again: a new call goes to a healthy region.',
          }
        : {
            title: 'The call was ended by the service',
            hint: `Reason: ${detail ?? 'not given'}. Press Talk to call again.`,
          };
    case 'cancelled':
      return { title: 'Call cancelled', hint: '' };
  }
}

/** Maps getUserMedia's DOMException names to what a person can do about them. */
export function microphoneFailure(err: unknown): CallFailure {
  const name = (err as { name?: unknown } | null)?.name;
  const message = (err as { message?: unknown } | null)?.message;
  const detail = typeof message === 'string' && message !== '' ? message : undefined;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new CallFailure('mic-denied', { detail });
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new CallFailure('no-mic', { detail });
    case 'NotReadableError':
    case 'AbortError':
      return new CallFailure('mic-busy', { detail });
    default:
      return new CallFailure('mic-failed', { detail });
  }
}

/** Anything thrown during a call, as a CallFailure (unexpected errors keep their message). */
export function asCallFailure(err: unknown): CallFailure {
  if (err instanceof CallFailure) return err;
  const message = (err as { message?: unknown } | null)?.message;
  return new CallFailure('setup-failed', { detail: typeof message === 'string' ? message : String(err) });
}

function sentence(s: string): string {
  const t = s.trim();
  if (t === '') return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
