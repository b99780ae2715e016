import { ConfigError } from '@parley/shared/config/load-config.js';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, loadWebConfig } from './config.js';

describe('loadWebConfig', () => {
  it('defaults: the page on, the dev token endpoint off', () => {
    expect(loadWebConfig({})).toEqual({ client: true, devTokenEndpoint: false });
  });

  it('turns the dev token endpoint on for a loopback listener, and the page off on request', () => {
    expect(
      loadWebConfig({
        PARLEY_DEV_TOKEN_ENDPOINT: '1',
        PARLEY_HTTP_HOST: '127.0.0.1',
        PARLEY_WEB_CLIENT: 'off',
      }),
    ).toEqual({ client: false, devTokenEndpoint: true });
  });

  it('refuses the dev token endpoint on a listener other machines can reach', () => {
    expect(() => loadWebConfig({ PARLEY_DEV_TOKEN_ENDPOINT: '1' })).toThrow(ConfigError);
    expect(() => loadWebConfig({ PARLEY_DEV_TOKEN_ENDPOINT: '1' }, { PARLEY_HTTP_HOST: '10.0.0.5' })).toThrow(
      /PARLEY_DEV_TOKEN_ENDPOINT: only allowed when PARLEY_HTTP_HOST is a loopback address, not "10.0.0.5"/,
    );
  });

  it('rejects values it does not know', () => {
    expect(() => loadWebConfig({ PARLEY_WEB_CLIENT: 'yes', PARLEY_DEV_TOKEN_ENDPOINT: 'true' })).toThrow(
      /PARLEY_WEB_CLIENT[\s\S]*PARLEY_DEV_TOKEN_ENDPOINT/,
    );
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['127.0.0.1.evil.example', false],
    ['localhost.evil.example', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
