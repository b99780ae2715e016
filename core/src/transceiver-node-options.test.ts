import { describe, expect, it } from 'vitest';
import {
  TRANSCEIVER_MALLOC_ARENA_MAX,
  TRANSCEIVER_NODE_OPTIONS,
  transceiverNodeOptions,
  transceiverProcessEnv,
} from './transceiver-node-options.js';

describe('transceiver NODE_OPTIONS', () => {
  it('adds the young-generation cap to whatever the caller runs with', () => {
    expect(transceiverNodeOptions(undefined)).toBe(TRANSCEIVER_NODE_OPTIONS.join(' '));
    expect(transceiverNodeOptions('  --enable-source-maps ')).toBe(
      ['--enable-source-maps', ...TRANSCEIVER_NODE_OPTIONS].join(' '),
    );
  });

  it("keeps the caller's own value of the same flag", () => {
    expect(transceiverNodeOptions('--max-semi-space-size=16')).toBe('--max-semi-space-size=16');
  });

  it('is what the transceiver image sets', async () => {
    const { readFileSync } = await import('node:fs');
    const dockerfile = readFileSync(new URL('../../docker/Dockerfile', import.meta.url), 'utf8');
    const stage = dockerfile.slice(dockerfile.indexOf('AS transceiver'));
    expect(stage).toContain(`ENV NODE_OPTIONS="${TRANSCEIVER_NODE_OPTIONS.join(' ')}"`);
    expect(stage).toContain(`ENV MALLOC_ARENA_MAX=${TRANSCEIVER_MALLOC_ARENA_MAX}`);
  });

  it('caps malloc arenas unless the caller chose a number, and adds NODE_OPTIONS the same way', () => {
    expect(transceiverProcessEnv({})).toEqual({
      NODE_OPTIONS: TRANSCEIVER_NODE_OPTIONS.join(' '),
      MALLOC_ARENA_MAX: TRANSCEIVER_MALLOC_ARENA_MAX,
    });
    expect(transceiverProcessEnv({ MALLOC_ARENA_MAX: '8', NODE_OPTIONS: '--max-semi-space-size=4' })).toEqual(
      {
        NODE_OPTIONS: '--max-semi-space-size=4',
        MALLOC_ARENA_MAX: '8',
      },
    );
  });
});
