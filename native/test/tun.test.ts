import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadNativeTun, nativeTunLoadError } from '../tun/index.cjs';

const LOADER = fileURLToPath(new URL('../tun/index.cjs', import.meta.url));
const NS = `ps${randomBytes(2).toString('hex')}-tuntest`;

const ip = (...args: string[]) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};

// Built by `npm run build` on Linux (it needs no -dev package): a missing addon is a failure.
it('the TUN addon is built and loads', () => {
  expect(nativeTunLoadError()?.message).toBeUndefined();
  expect(loadNativeTun()?.openTun).toBeTypeOf('function');
});

it('rejects names the kernel cannot take', () => {
  const tun = loadNativeTun();
  expect(() => tun?.openTun('')).toThrow(/1-14 characters/);
  expect(() => tun?.openTun('x'.repeat(20))).toThrow(/1-14 characters/);
});

// In a namespace the test creates (root only, like the simulation that uses the addon).
beforeAll(() => ip('netns', 'add', NS));
afterAll(() => ip('netns', 'del', NS));

it('opens a TUN device whose fd carries the IP packets the kernel routes to it', () => {
  // The child attaches to t0, gives it 10.77.0.1/24, sends a UDP datagram to
  // 10.77.0.2 (routed into the TUN) and reads it back from the fd.
  const script = `
    const { execFileSync } = require('node:child_process');
    const dgram = require('node:dgram');
    const { readSync } = require('node:fs');
    const fd = require(${JSON.stringify(LOADER)}).loadNativeTun().openTun('t0');
    execFileSync('ip', ['addr', 'add', '10.77.0.1/24', 'dev', 't0']);
    execFileSync('ip', ['link', 'set', 't0', 'up']);
    const s = dgram.createSocket('udp4');
    s.send(Buffer.from('parley'), 9999, '10.77.0.2', () => {
      const buf = Buffer.alloc(2048);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        // Skip anything else the kernel sends (none expected on IPv4 here, but be exact).
        if (buf[0] >> 4 === 4 && buf[9] === 17) {
          console.log(JSON.stringify({ n, dst: [...buf.subarray(16, 20)].join('.'), payload: buf.subarray(28, n).toString() }));
          process.exit(0);
        }
      }
    });`;
  const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '-e', script], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ n: 34, dst: '10.77.0.2', payload: 'parley' });
});
