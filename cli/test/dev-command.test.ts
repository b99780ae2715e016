import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterEach, describe, expect, it } from 'vitest';

// `parley dev` itself, as a person runs it: the built CLI in its own process group (a terminal's
// job), its printed lines, and Ctrl-C sent to the whole group as a terminal does.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Dev {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  lines: Record<string, string>;
}

async function startDev(args: string[], env: Record<string, string> = {}): Promise<Dev> {
  const base = { ...process.env };
  delete base.PARLEY_AUTH_JWT_SECRET;
  const child = spawn(process.execPath, [MAIN, 'dev', ...args], {
    env: { ...base, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const dev: Dev = { child, stdout: [], stderr: [], lines: {} };
  child.stderr?.on('data', (d: Buffer) => dev.stderr.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "ready" in 45 s: ${dev.stderr.join('')}`)), 45_000);
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      dev.stdout.push(d.toString());
      if (/^ready$/m.test(buf)) {
        clearTimeout(timer);
        for (const line of buf.split('\n')) {
          const m = /^(\w[\w ]*?): (.*)$/.exec(line);
          if (m) dev.lines[m[1] as string] = m[2] as string;
        }
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parley dev exited with ${code}: ${dev.stderr.join('')}`));
    });
  });
  return dev;
}

/** Ctrl-C at a terminal: SIGINT to every process of the foreground group. */
async function ctrlC(dev: Dev): Promise<number | null> {
  const exited = new Promise<number | null>((r) => dev.child.once('exit', (code) => r(code)));
  process.kill(-(dev.child.pid as number), 'SIGINT');
  return exited;
}

function parley(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env };
  delete base.PARLEY_TOKEN;
  delete base.PARLEY_AUTH_JWT_SECRET;
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...base, ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('parley dev', () => {
  let dev: Dev | undefined;
  afterEach(async () => {
    if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
      const gone = new Promise((r) => dev?.child.once('exit', r));
      process.kill(-(dev.child.pid as number), 'SIGKILL');
      await gone;
    }
    dev = undefined;
  });

  it('prints the secret line that `parley token` needs, reuses PARLEY_AUTH_JWT_SECRET, and stops quietly on Ctrl-C', async () => {
    const secret = 'a-dev-secret-kept-across-restarts-0123456789';
    const [port, relayPort, icePort] = [await freeTcpPort(), await freeUdpPort(), await freeUdpPort()];
    dev = await startDev(
      ['--port', String(port), '--relay-port', String(relayPort), '--ice-port', String(icePort)],
      {
        PARLEY_AUTH_JWT_SECRET: secret,
      },
    );
    expect(dev.lines.edge).toBe(`http://127.0.0.1:${port}`);
    expect(dev.lines.page).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/ `));
    expect(dev.lines.secret).toMatch(new RegExp(`^export PARLEY_AUTH_JWT_SECRET=${secret} `));
    expect(dev.lines.try).toMatch(new RegExp(`^npx parley call http://127\\.0\\.0\\.1:${port} `));
    // The printed line, run as printed, gives `parley token` a secret this edge accepts.
    const exported = /^export (PARLEY_AUTH_JWT_SECRET)=(\S+)/.exec(
      dev.lines.secret as string,
    ) as RegExpExecArray;
    const token = await parley(['token'], { [exported[1] as string]: exported[2] as string });
    const call = await parley(['call', dev.lines.edge as string, '--seconds', '0.5', '--json'], {
      PARLEY_TOKEN: token.stdout.trim(),
    });
    expect(call.code).toBe(0);
    // Readable logs: pino-pretty lines under each service's name, no raw JSON, no nats banner.
    const logs = dev.stderr.join('');
    expect(logs).toMatch(/^edge +\[\d\d:\d\d:\d\d\.\d{3}\] INFO: signaling listening/m);
    expect(logs).not.toMatch(/^\[edge\] \{/m);
    expect(logs).not.toMatch(/\[INF\]/);

    const before = dev.stderr.join('').length;
    expect(await ctrlC(dev)).toBe(0);
    const shutdown = dev.stderr.join('').slice(before);
    // Nothing alarming on the way out: no second-signal messages, no NATS disconnect warnings.
    expect(shutdown).toMatch(/stopping\.\.\.\n(.*\n)*stopped\n$/);
    expect(shutdown).not.toMatch(/WARN|ERROR|second SIG|exited unexpectedly|nats disconnect/i);
  }, 90_000);

  it('--bind 0.0.0.0 --advertise: relay and edge on every address, answers name the advertised relay, page URL carries its token', async () => {
    const [port, relayPort, icePort] = [await freeTcpPort(), await freeUdpPort(), await freeUdpPort()];
    dev = await startDev([
      '--port',
      String(port),
      '--relay-port',
      String(relayPort),
      '--ice-port',
      String(icePort),
      '--bind',
      '0.0.0.0',
      '--advertise',
      '127.0.0.1',
    ]);
    expect(dev.lines.relay).toBe(`udp://127.0.0.1:${relayPort}`);
    // No loopback-only token endpoint on a listener others can reach: the URL carries a token.
    expect(dev.lines.page).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=ey[\\w-]+\\.[\\w-]+\\.[\\w-]+ `),
    );
    const devToken = await fetch(`http://127.0.0.1:${port}/dev/token`);
    expect(devToken.status).toBe(404);
    await devToken.body?.cancel();
    const token = /token=(\S+)/.exec(dev.lines.page as string)?.[1] as string;
    const call = await parley([
      'call',
      `http://127.0.0.1:${port}`,
      '--seconds',
      '0.5',
      '--json',
      '--token',
      token,
    ]);
    expect(call.code).toBe(0);
    expect(JSON.parse(call.stdout).remoteCandidate).toBe(`127.0.0.1:${relayPort}`);
    expect(await ctrlC(dev)).toBe(0);
  }, 90_000);
});
