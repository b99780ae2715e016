import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { natsOutcome, routeLabel } from './edge-metrics.js';

describe('routeLabel', () => {
  it('keeps the API routes and folds ids and unknown paths', () => {
    expect(routeLabel('/v1/sessions')).toBe('/v1/sessions');
    expect(routeLabel('/v1/sessions/0123456789ab-AAAAAAAAAAAAAAAAAAAAAA.tag')).toBe('/v1/sessions/:id');
    expect(routeLabel('/healthz')).toBe('/healthz');
    expect(routeLabel('/assets/app.js')).toBe('/assets/*');
    expect(routeLabel('/wp-login.php')).toBe('other');
    expect(routeLabel('/v1/sessions/a/b')).toBe('other');
    expect(routeLabel('/v1/sessions/0123456789ab-AAAAAAAAAAAAAAAAAAAAAA.tag/events')).toBe(
      '/v1/sessions/:id/events',
    );
  });
});

describe('natsOutcome', () => {
  it("names nats.js's timeout and no-responders errors, directly or as a cause", () => {
    expect(natsOutcome(new TimeoutError())).toBe('timeout');
    expect(natsOutcome(new NoRespondersError('parley.v1.transceiver.x.offer'))).toBe('no_responders');
    expect(natsOutcome(new RequestError('no responders', { cause: new NoRespondersError('s') }))).toBe(
      'no_responders',
    );
    expect(natsOutcome(new Error('connection closed'))).toBe('error');
  });
});
