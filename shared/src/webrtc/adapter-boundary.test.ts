import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ADAPTER = 'shared/src/webrtc/';

describe('the werift adapter boundary', () => {
  it('is the only folder in the repository that imports werift', () => {
    const files = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mts'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((f) => f && !f.includes('node_modules/') && !f.includes('/dist/'));
    expect(files.length).toBeGreaterThan(100);
    const importsWerift = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]werift(?:\/[^'"]*)?['"]/;
    const outside = files.filter(
      (f) => !f.startsWith(ADAPTER) && importsWerift.test(readFileSync(`${ROOT}${f}`, 'utf8')),
    );
    expect(outside).toEqual([]);
  });
});
