import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepCoreAwake, readCpuIdle } from './core-awake.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('readCpuIdle', () => {
  it('reads the cpuidle driver and the guest halt-poll window, and leaves out what is absent', () => {
    const sys = mkdtempSync(join(tmpdir(), 'parley-sysfs-'));
    dirs.push(sys);
    expect(readCpuIdle(sys)).toEqual({});
    mkdirSync(join(sys, 'devices/system/cpu/cpuidle'), { recursive: true });
    writeFileSync(join(sys, 'devices/system/cpu/cpuidle/current_driver'), 'haltpoll\n');
    expect(readCpuIdle(sys)).toEqual({ driver: 'haltpoll' });
    mkdirSync(join(sys, 'module/haltpoll/parameters'), { recursive: true });
    writeFileSync(join(sys, 'module/haltpoll/parameters/guest_halt_poll_ns'), '0\n');
    expect(readCpuIdle(sys)).toEqual({ driver: 'haltpoll', guestHaltPollNs: 0 });
  });
});

describe('keepCoreAwake', () => {
  it('runs a SCHED_IDLE busy loop pinned to the core, and stop() ends it', async () => {
    const awake = keepCoreAwake(0);
    if ('skipped' in awake) throw new Error(`util-linux missing on this machine: ${awake.skipped}`);
    try {
      // setpriv, chrt and taskset exec in turn: wait until the pid is the shell.
      const deadline = Date.now() + 3_000;
      let policy = '';
      while (Date.now() < deadline) {
        policy = execFileSync('chrt', ['-p', String(awake.pid)]).toString();
        const affinity = execFileSync('taskset', ['-c', '-p', String(awake.pid)]).toString();
        if (policy.includes('SCHED_IDLE') && /list: 0\s*$/.test(affinity)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(policy).toContain('SCHED_IDLE');
      expect(execFileSync('taskset', ['-c', '-p', String(awake.pid)]).toString()).toMatch(/list: 0\s*$/);
    } finally {
      await awake.stop();
    }
    expect(existsSync(`/proc/${awake.pid}`)).toBe(false);
  });
});
