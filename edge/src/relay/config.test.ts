import { ConfigError } from '@parley/shared/config/load-config.js';
import { describe, expect, it } from 'vitest';
import { loadRelayConfig } from './config.js';

const KEYS = `3:${Buffer.alloc(32, 7).toString('base64')},4:${Buffer.alloc(32, 8).toString('base64')}`;

describe('relay config', () => {
  it('applies the documented defaults and parses the keyring', () => {
    const c = loadRelayConfig({ PARLEY_TOKEN_KEYS: KEYS });
    expect(c).toMatchObject({
      PARLEY_RELAY_HOST: '0.0.0.0',
      PARLEY_RELAY_PORT: 3478,
      PARLEY_RELAY_UPSTREAM_HOST: '0.0.0.0',
      PARLEY_RELAY_IDLE_TIMEOUT_MS: 30_000,
      PARLEY_RELAY_MAX_FLOWS: 100_000,
      PARLEY_RELAY_NEW_FLOWS_PER_IP_PER_SECOND: 200,
      PARLEY_RELAY_MAX_FLOWS_PER_TOKEN: 8,
      PARLEY_RELAY_MAX_FLOWS_PER_IP: 512,
      PARLEY_RELAY_TCP_PORT: 443,
      PARLEY_RELAY_TCP_HANDSHAKE_TIMEOUT_MS: 5_000,
      PARLEY_RELAY_TCP_MAX_CONNECTIONS_PER_IP: 32,
      NATS_URL: ['nats://127.0.0.1:4222'],
      PARLEY_METRICS_PORT: 9465,
      PARLEY_LOG_LEVEL: 'info',
      PARLEY_RELAY_IO: 'auto',
      PARLEY_RELAY_REUSE_PORT: '0',
      PARLEY_RELAY_HANDOVER_QUIET_MS: 1_000,
      PARLEY_RELAY_HANDOVER_MAX_MS: 10_000,
    });
    expect(c.PARLEY_TOKEN_KEYS.signing.id).toBe(3);
    expect([...c.PARLEY_TOKEN_KEYS.byId.keys()]).toEqual([3, 4]);
  });

  it('takes values from the environment and flag overrides, coercing numbers', () => {
    const c = loadRelayConfig(
      {
        PARLEY_TOKEN_KEYS: KEYS,
        PARLEY_RELAY_PORT: '3479',
        PARLEY_RELAY_IDLE_TIMEOUT_MS: '5000',
        NATS_URL: 'nats://a:4222, nats://b:4222',
      },
      { PARLEY_RELAY_PORT: '40000', PARLEY_RELAY_MAX_FLOWS: '10' },
    );
    expect(c.PARLEY_RELAY_PORT).toBe(40_000);
    expect(c.PARLEY_RELAY_IDLE_TIMEOUT_MS).toBe(5_000);
    expect(c.PARLEY_RELAY_MAX_FLOWS).toBe(10);
    expect(c.NATS_URL).toEqual(['nats://a:4222', 'nats://b:4222']);
  });

  it('requires PARLEY_TOKEN_KEYS and reports every bad variable at once', () => {
    expect(() => loadRelayConfig({})).toThrow(ConfigError);
    expect(() => loadRelayConfig({})).toThrow(/PARLEY_TOKEN_KEYS/);
    let message = '';
    try {
      loadRelayConfig({
        PARLEY_TOKEN_KEYS: '1:tooshort',
        PARLEY_RELAY_PORT: '70000',
        PARLEY_RELAY_MAX_FLOWS: '0',
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/PARLEY_TOKEN_KEYS: token key 1 is shorter than 32 bytes/);
    expect(message).toMatch(/PARLEY_RELAY_PORT/);
    expect(message).toMatch(/PARLEY_RELAY_MAX_FLOWS/);
  });

  it('UDP I/O and port sharing: the documented choices, nothing else', () => {
    const c = loadRelayConfig({
      PARLEY_TOKEN_KEYS: KEYS,
      PARLEY_RELAY_IO: 'dgram',
      PARLEY_RELAY_REUSE_PORT: 'handover',
    });
    expect(c.PARLEY_RELAY_IO).toBe('dgram');
    expect(c.PARLEY_RELAY_REUSE_PORT).toBe('handover');
    expect(() => loadRelayConfig({ PARLEY_TOKEN_KEYS: KEYS, PARLEY_RELAY_IO: 'uring' })).toThrow(ConfigError);
    expect(() => loadRelayConfig({ PARLEY_TOKEN_KEYS: KEYS, PARLEY_RELAY_REUSE_PORT: 'yes' })).toThrow(
      ConfigError,
    );
  });
});
