import { ConfigError } from '@parley/shared/config/load-config.js';
import { describe, expect, it } from 'vitest';
import { loadTransceiverConfig } from './config.js';

const KEYS = `1:${Buffer.alloc(32, 7).toString('base64')}`;

describe('transceiver config: the one ICE port', () => {
  it('defaults PARLEY_ICE_PORT to 20000', () => {
    expect(loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS }).PARLEY_ICE_PORT).toBe(20_000);
  });

  it('takes it from the environment and from a flag override, flag first', () => {
    expect(loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS, PARLEY_ICE_PORT: '31000' }).PARLEY_ICE_PORT).toBe(
      31_000,
    );
    const c = loadTransceiverConfig(
      { PARLEY_TOKEN_KEYS: KEYS, PARLEY_ICE_PORT: '31000' },
      { PARLEY_ICE_PORT: '1' },
    );
    expect(c.PARLEY_ICE_PORT).toBe(1);
    expect(loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS, PARLEY_ICE_PORT: '65535' }).PARLEY_ICE_PORT).toBe(
      65_535,
    );
  });

  it('rejects anything that is not one port number: it is announced, and relays forward there', () => {
    for (const bad of ['0', '65536', '-1', '20000.5', '20000-20999', 'abc']) {
      expect(() => loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS, PARLEY_ICE_PORT: bad }), bad).toThrow(
        /PARLEY_ICE_PORT/,
      );
    }
  });

  it('refuses the retired range variables instead of silently binding the default port', () => {
    for (const env of [
      { PARLEY_ICE_PORT_MIN: '30000' },
      { PARLEY_ICE_PORT_MAX: '30999' },
      { PARLEY_ICE_PORT_MIN: '30000', PARLEY_ICE_PORT_MAX: '30999', PARLEY_ICE_PORT: '30000' },
    ]) {
      expect(() => loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS, ...env })).toThrow(ConfigError);
      expect(() => loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS, ...env })).toThrow(
        /PARLEY_ICE_PORT_M(IN|AX): no longer used; set PARLEY_ICE_PORT/,
      );
    }
    expect(() =>
      loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS }, { PARLEY_ICE_PORT_MIN: '30000' }),
    ).toThrow(ConfigError);
    // Unset flags arrive as undefined or empty and are not a use of the old names.
    expect(
      loadTransceiverConfig(
        { PARLEY_TOKEN_KEYS: KEYS, PARLEY_ICE_PORT_MIN: '' },
        { PARLEY_ICE_PORT_MAX: undefined },
      ).PARLEY_ICE_PORT,
    ).toBe(20_000);
  });
});

describe('transceiver config: the gRPC agent codec', () => {
  it('is pcm16 unless set to opus; anything else is refused', () => {
    expect(loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS }).PARLEY_AGENT_GRPC_CODEC).toBe('pcm16');
    expect(
      loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS, PARLEY_AGENT_GRPC_CODEC: 'opus' })
        .PARLEY_AGENT_GRPC_CODEC,
    ).toBe('opus');
    expect(() => loadTransceiverConfig({ PARLEY_TOKEN_KEYS: KEYS, PARLEY_AGENT_GRPC_CODEC: 'OPUS' })).toThrow(
      /PARLEY_AGENT_GRPC_CODEC/,
    );
  });
});
