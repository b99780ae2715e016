import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { leftoverProcesses } from './process-leak-guard.js';

describe('process leak guard', () => {
  it('finds a process of this run that outlived its parent, by the inherited mark, and not others', async () => {
    const id = `guard-test-${process.pid}`;
    const before = new Set<number>();
    // Re-parented to init at once: sh starts sleep in the background and exits.
    const sh = spawn('sh', ['-c', 'sleep 30 & echo $!'], {
      env: { ...process.env, PARLEY_TEST_RUN: id },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [out] = (await once(sh.stdout, 'data')) as [Buffer];
    const orphan = Number(out.toString().trim());
    await once(sh, 'exit');
    // A process without the mark and outside this process tree is not ours.
    const stranger = spawn('sh', ['-c', 'sleep 30 & echo $!'], {
      env: { ...process.env, PARLEY_TEST_RUN: 'another-run' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [out2] = (await once(stranger.stdout, 'data')) as [Buffer];
    const other = Number(out2.toString().trim());
    try {
      const pids = leftoverProcesses(id, before, -1).map((p) => p.pid);
      expect(pids).toContain(orphan);
      expect(pids).not.toContain(other);
    } finally {
      process.kill(orphan, 'SIGKILL');
      process.kill(other, 'SIGKILL');
    }
  });
});
