import { describe, expect, it } from 'vitest';
import { checkScriptArgs } from './script-usage.js';

describe('checkScriptArgs', () => {
  const usage = 'usage: x [--write]';
  it('answers --help and -h with the usage and exit 0', () => {
    expect(checkScriptArgs(['--help'], usage, ['--write'])).toEqual({ exit: 0, out: usage });
    expect(checkScriptArgs(['-h'], usage, [])).toEqual({ exit: 0, out: usage });
  });
  it('refuses an unknown option with exit 2, naming it', () => {
    const r = checkScriptArgs(['--writ'], usage, ['--write']);
    expect(r?.exit).toBe(2);
    expect(r?.out).toContain('unknown option --writ');
  });
  it('lets known options and their values through', () => {
    expect(
      checkScriptArgs(['--write', '--threshold', '-0.75'], usage, ['--write', '--threshold']),
    ).toBeUndefined();
    expect(checkScriptArgs(['--write', '--splits', 'bench'], usage, ['--write', '--splits'])).toBeUndefined();
  });
});
