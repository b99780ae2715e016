import { ConfigError } from '@parley/shared/config/load-config.js';
import { describe, expect, it } from 'vitest';
import { loadSignalingConfig } from './config.js';

const SECRET = 'config-test-secret-with-at-least-32-chars';

describe('loadSignalingConfig', () => {
  it('applies defaults around the two required settings', () => {
    const c = loadSignalingConfig({
      PARLEY_RELAY_ADVERTISE: '198.51.100.4:3478',
      PARLEY_AUTH_JWT_SECRET: SECRET,
    });
    expect(c).toEqual({
      http: {
        host: '0.0.0.0',
        port: 8080,
        limits: {
          headersTimeoutMs: 10_000,
          requestTimeoutMs: 15_000,
          keepAliveTimeoutMs: 5_000,
          maxConnections: 10_000,
          maxInFlight: 1_024,
          drainLimitBytes: 131_072,
        },
      },
      cluster: 'local',
      region: 'local',
      relayAdvertise: { ip: '198.51.100.4', port: 3478 },
      auth: { mode: 'jwt', secret: SECRET, issuer: undefined, audience: undefined },
      offerTimeoutMs: 5000,
      maxOfferBytes: 65536,
      corsOrigins: [],
      placement: { clusters: [{ name: 'local' }], rttProbeMs: 2000 },
      natsServers: ['nats://127.0.0.1:4222'],
    });
  });

  it('parses every variable', () => {
    const c = loadSignalingConfig({
      PARLEY_HTTP_HOST: '127.0.0.1',
      PARLEY_HTTP_PORT: '0',
      PARLEY_CLUSTER: 'eu-1',
      PARLEY_REGION: 'eu-west',
      PARLEY_RELAY_ADVERTISE: '[2001:db8::1]:3478',
      PARLEY_AUTH: 'jwt',
      PARLEY_AUTH_JWT_SECRET: SECRET,
      PARLEY_AUTH_JWT_ISSUER: 'https://auth.example.com',
      PARLEY_AUTH_JWT_AUDIENCE: 'parley',
      PARLEY_OFFER_TIMEOUT_MS: '2500',
      PARLEY_MAX_OFFER_BYTES: '32768',
      PARLEY_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      PARLEY_HTTP_HEADERS_TIMEOUT_MS: '2000',
      PARLEY_HTTP_REQUEST_TIMEOUT_MS: '4000',
      PARLEY_HTTP_KEEPALIVE_TIMEOUT_MS: '3000',
      PARLEY_HTTP_MAX_CONNECTIONS: '500',
      PARLEY_HTTP_MAX_IN_FLIGHT: '50',
      NATS_URL: 'nats://a:4222, nats://b:4222',
    });
    expect(c.http).toEqual({
      host: '127.0.0.1',
      port: 0,
      limits: {
        headersTimeoutMs: 2000,
        requestTimeoutMs: 4000,
        keepAliveTimeoutMs: 3000,
        maxConnections: 500,
        maxInFlight: 50,
        drainLimitBytes: 65_536,
      },
    });
    expect(c.relayAdvertise).toEqual({ ip: '2001:db8::1', port: 3478 });
    expect(c.auth).toEqual({
      mode: 'jwt',
      secret: SECRET,
      issuer: 'https://auth.example.com',
      audience: 'parley',
    });
    expect(c.offerTimeoutMs).toBe(2500);
    expect(c.maxOfferBytes).toBe(32768);
    expect(c.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(c.natsServers).toEqual(['nats://a:4222', 'nats://b:4222']);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() =>
      loadSignalingConfig({
        PARLEY_RELAY_ADVERTISE: '127.0.0.1:3478',
        PARLEY_AUTH: 'off',
        PARLEY_HTTP_HEADERS_TIMEOUT_MS: '20000',
        PARLEY_HTTP_REQUEST_TIMEOUT_MS: '10000',
      }),
    ).toThrow(/PARLEY_HTTP_HEADERS_TIMEOUT_MS/);
  });

  it('needs no secret with auth off', () => {
    const c = loadSignalingConfig({ PARLEY_RELAY_ADVERTISE: '127.0.0.1:3478', PARLEY_AUTH: 'off' });
    expect(c.auth).toEqual({ mode: 'off' });
  });

  it('lists every bad variable in one error', () => {
    let error: unknown;
    try {
      loadSignalingConfig({ PARLEY_HTTP_PORT: 'eighty', PARLEY_CORS_ORIGINS: 'https://a.example/path' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      'PARLEY_HTTP_PORT',
      'PARLEY_RELAY_ADVERTISE',
      'PARLEY_AUTH_JWT_SECRET',
      'PARLEY_CORS_ORIGINS',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('refuses a short secret and a relay address without a port', () => {
    expect(() =>
      loadSignalingConfig({ PARLEY_RELAY_ADVERTISE: '127.0.0.1:3478', PARLEY_AUTH_JWT_SECRET: 'short' }),
    ).toThrow(/PARLEY_AUTH_JWT_SECRET: must be at least 32/);
    expect(() => loadSignalingConfig({ PARLEY_RELAY_ADVERTISE: '127.0.0.1', PARLEY_AUTH: 'off' })).toThrow(
      /PARLEY_RELAY_ADVERTISE/,
    );
  });
});
