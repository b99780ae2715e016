import { describe, expect, it } from 'vitest';
import { asCallFailure, CallFailure, describeFailure, microphoneFailure } from './failures.js';

describe('describeFailure', () => {
  it('puts the edge problem detail and the retry time in the 503 message', () => {
    const m = describeFailure(
      new CallFailure('unavailable', {
        status: 503,
        detail: 'no transceivers in cluster "eu"',
        retryAfterSeconds: 5,
      }),
    );
    expect(m).toEqual({
      title: 'No voice capacity right now',
      hint: 'No transceivers in cluster "eu". Try again in 5 s.',
    });
  });

  it('without Retry-After, still says to try again', () => {
    expect(describeFailure(new CallFailure('unavailable')).hint).toBe(
      'The edge could not place the call. Try again shortly.',
    );
  });

  it('401: shows the reason and how to provide a token', () => {
    const m = describeFailure(new CallFailure('unauthorized', { status: 401, detail: 'token expired' }));
    expect(m.title).toBe('The edge refused the token');
    expect(m.hint).toMatch(/^Token expired\. Paste a valid token/);
    expect(m.hint).toContain('?token=');
  });

  it('names the relay address when ICE fails, and the edge when it is unreachable', () => {
    expect(describeFailure(new CallFailure('ice-failed', { relay: '203.0.113.7:3478' })).hint).toContain(
      'the relay at 203.0.113.7:3478',
    );
    expect(
      describeFailure(new CallFailure('edge-unreachable', { edge: 'https://edge.example' })).hint,
    ).toContain('https://edge.example');
  });

  it('other statuses show the status and the detail as a sentence', () => {
    expect(
      describeFailure(new CallFailure('edge-rejected', { status: 413, detail: 'offer too large' })),
    ).toEqual({
      title: 'The edge answered 413',
      hint: 'Offer too large.',
    });
  });
});

describe('microphoneFailure', () => {
  const named = (name: string) => Object.assign(new Error('x'), { name });

  it.each([
    ['NotAllowedError', 'mic-denied'],
    ['SecurityError', 'mic-denied'],
    ['NotFoundError', 'no-mic'],
    ['OverconstrainedError', 'no-mic'],
    ['NotReadableError', 'mic-busy'],
    ['TypeError', 'mic-failed'],
  ])('%s → %s', (name, kind) => {
    expect(microphoneFailure(named(name)).kind).toBe(kind);
  });

  it('each microphone failure has its own title', () => {
    const titles = ['mic-denied', 'no-mic', 'mic-busy', 'insecure-context'].map(
      (k) => describeFailure(new CallFailure(k as 'no-mic')).title,
    );
    expect(new Set(titles).size).toBe(4);
  });
});

describe('asCallFailure', () => {
  it('keeps CallFailures and wraps anything else with its message', () => {
    const f = new CallFailure('no-mic');
    expect(asCallFailure(f)).toBe(f);
    const wrapped = asCallFailure(new Error('setRemoteDescription failed'));
    expect(wrapped.kind).toBe('setup-failed');
    expect(describeFailure(wrapped).hint).toBe('SetRemoteDescription failed.');
  });
});

describe('session-ended (the edge said session.ended)', () => {
  it('explains a lost transceiver and any other reason', () => {
    expect(describeFailure(new CallFailure('session-ended', { detail: 'transceiver_lost' }))).toEqual({
      title: 'The voice server went away',
      hint: expect.stringContaining('transceiver_lost'),
    });
    expect(describeFailure(new CallFailure('session-ended', { detail: 'expired' })).hint).toBe(
      'Reason: expired. Press Talk to call again.',
    );
  });
});
