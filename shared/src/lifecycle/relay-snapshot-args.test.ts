import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasPreload, relaySnapshotArgs } from './relay-snapshot-args.js';

// A repository laid out as the real one: <root>/cli/dist/relay.blob(.json), build info beside each workspace.
describe('relaySnapshotArgs', () => {
  let root: string;
  let dist: URL;
  const stamp = { node: process.version, arch: process.arch, platform: process.platform };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'parley-snapshot-args-'));
    mkdirSync(join(root, 'cli', 'dist'), { recursive: true });
    mkdirSync(join(root, 'edge'));
    mkdirSync(join(root, 'shared'));
    dist = pathToFileURL(`${join(root, 'cli', 'dist')}/`);
    const past = new Date(Date.now() - 60_000);
    for (const ws of ['cli', 'edge', 'shared']) {
      const info = join(root, ws, 'tsconfig.tsbuildinfo');
      writeFileSync(info, '{}');
      utimesSync(info, past, past);
    }
    writeFileSync(join(root, 'cli', 'dist', 'relay.blob'), 'blob');
    writeFileSync(join(root, 'cli', 'dist', 'relay.blob.json'), JSON.stringify(stamp));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('names the blob when it is there, stamped by this Node and newer than every build', () => {
    expect(relaySnapshotArgs(dist, {})).toEqual([
      '--snapshot-blob',
      join(root, 'cli', 'dist', 'relay.blob'),
      'relay',
    ]);
  });

  it('not when turned off: PARLEY_CLI_SNAPSHOT=0, or PARLEY_CLI_BUNDLE=0 (the plain modules)', () => {
    expect(relaySnapshotArgs(dist, { PARLEY_CLI_SNAPSHOT: '0' })).toBeUndefined();
    expect(relaySnapshotArgs(dist, { PARLEY_CLI_BUNDLE: '0' })).toBeUndefined();
    expect(relaySnapshotArgs(dist, { PARLEY_CLI_SNAPSHOT: '1' })).toBeDefined();
  });

  it('not for a blob another Node built, or without its stamp', () => {
    writeFileSync(join(root, 'cli', 'dist', 'relay.blob.json'), JSON.stringify({ ...stamp, node: 'v0.0.1' }));
    expect(relaySnapshotArgs(dist, {})).toBeUndefined();
    writeFileSync(join(root, 'cli', 'dist', 'relay.blob.json'), 'not json');
    expect(relaySnapshotArgs(dist, {})).toBeUndefined();
    rmSync(join(root, 'cli', 'dist', 'relay.blob.json'));
    expect(relaySnapshotArgs(dist, {})).toBeUndefined();
  });

  it('not when there is no blob, or a workspace was built after it (it would run old code)', () => {
    const info = join(root, 'edge', 'tsconfig.tsbuildinfo');
    const future = new Date(Date.now() + 60_000);
    utimesSync(info, future, future);
    expect(relaySnapshotArgs(dist, {})).toBeUndefined();
    utimesSync(info, new Date(0), new Date(0));
    expect(relaySnapshotArgs(dist, {})).toBeDefined();
    rmSync(join(root, 'cli', 'dist', 'relay.blob'));
    expect(relaySnapshotArgs(dist, {})).toBeUndefined();
  });

  it('not when a module is preloaded, through NODE_OPTIONS or the Node options', () => {
    expect(
      relaySnapshotArgs(dist, { NODE_OPTIONS: '--max-semi-space-size=2 --require /x/apm.cjs' }),
    ).toBeUndefined();
    expect(relaySnapshotArgs(dist, { NODE_OPTIONS: '-r apm' })).toBeUndefined();
    expect(relaySnapshotArgs(dist, {}, ['--import=./otel.mjs'])).toBeUndefined();
    expect(
      relaySnapshotArgs(dist, { NODE_OPTIONS: '--max-old-space-size=512' }, ['--cpu-prof']),
    ).toBeDefined();
  });
});

describe('hasPreload', () => {
  it('finds --require, -r, --import and loaders, with or without =, and nothing else', () => {
    for (const o of [
      '--require',
      '-r',
      '--import',
      '--import=x.mjs',
      '--loader',
      '--experimental-loader=y',
    ]) {
      expect(hasPreload([o]), o).toBe(true);
    }
    for (const o of ['--required', '--max-semi-space-size=2', '', '--cpu-prof', '-rx']) {
      expect(hasPreload([o]), o).toBe(false);
    }
  });
});
