import { type ChildProcess, execFile, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createJwtAuthenticator } from '@parley/edge/signaling/auth.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';

// The built CLI (`npm run build` first), run as a user runs it: a separate process, its exit status,
// stdout and stderr. Node is the one running the tests (the pinned Node 24).
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function parley(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Run> {
  // Nothing from the developer's shell that would change what the CLI does.
  const base = { ...process.env };
  for (const k of [
    'PARLEY_TOKEN',
    'PARLEY_AUTH_JWT_SECRET',
    'PARLEY_AUTH_JWT_ISSUER',
    'PARLEY_AUTH_JWT_AUDIENCE',
  ])
    delete base[k];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...base, ...env }, timeout: timeoutMs },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const SECRET = randomBytes(32).toString('base64url');
const noStackTrace = (r: Run) => expect(r.stderr).not.toMatch(/^\s+at /m);

// Each test spawns the CLI (1-3 s on a quiet machine, 10 s and more on a busy 2-core one).
describe('parley token: flags and validation', { timeout: 60_000 }, () => {
  it('mints a token with --agent, --issuer and --audience that an edge with those checks accepts', async () => {
    const r = await parley(
      [
        'token',
        '--subject',
        'alice',
        '--ttl',
        '120',
        '--agent',
        'grpc',
        '--issuer',
        'app',
        '--audience',
        'parley',
      ],
      { PARLEY_AUTH_JWT_SECRET: SECRET },
    );
    expect(r.code).toBe(0);
    const auth = createJwtAuthenticator({ secret: SECRET, issuer: 'app', audience: 'parley' });
    expect(await auth.verify(`Bearer ${r.stdout.trim()}`)).toEqual({
      ok: true,
      subject: 'alice',
      agent: 'grpc',
    });
    const claims = JSON.parse(Buffer.from(r.stdout.split('.')[1] as string, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(120);
    // An edge that checks a different audience refuses it: the flag really went into the token.
    const other = createJwtAuthenticator({ secret: SECRET, audience: 'someone-else' });
    expect((await other.verify(`Bearer ${r.stdout.trim()}`)).ok).toBe(false);
  });

  it('takes the issuer and audience from the edge variables when the flags are absent', async () => {
    const r = await parley(['token'], {
      PARLEY_AUTH_JWT_SECRET: SECRET,
      PARLEY_AUTH_JWT_ISSUER: 'env-iss',
      PARLEY_AUTH_JWT_AUDIENCE: 'env-aud',
    });
    expect(r.code).toBe(0);
    const auth = createJwtAuthenticator({ secret: SECRET, issuer: 'env-iss', audience: 'env-aud' });
    expect((await auth.verify(`Bearer ${r.stdout.trim()}`)).ok).toBe(true);
  });

  it.each([
    [
      ['token', '--ttl', 'abc'],
      /--ttl <seconds>' argument 'abc' is invalid\. Expected a whole number from 1/,
    ],
    [['token', '--ttl', '0'], /argument '0' is invalid/],
    [['token', '--ttl', '1.5'], /argument '1\.5' is invalid/],
    [['token', '--subject', ''], /--subject <sub>' argument '' is invalid/],
    [['token', '--agent', 'has space'], /--agent <name>' argument 'has space' is invalid/],
    [
      ['keygen', '--id', '256'],
      /--id <kid>' argument '256' is invalid\. Expected a whole number from 0 to 255/,
    ],
    [['call', 'ftp://x'], /value 'ftp:\/\/x' is invalid for argument 'edge-url'/],
    [['call', 'http://127.0.0.1:8080', '--seconds', 'x'], /--seconds <n>' argument 'x' is invalid/],
    [['dev', '--port', '70000'], /--port <port>' argument '70000' is invalid/],
    [['dev', '--agent', 'gpt'], /Expected one of: echo, grpc, realtime/],
    [['dev', '--bind', 'my-box'], /--bind <ip>' argument 'my-box' is invalid/],
    [['dev', '--bind', '0.0.0.0'], /--bind 0\.0\.0\.0 needs --advertise/],
    [['loadtest', 'http://127.0.0.1:1', '--sessions', '0'], /sessions must be a number from 1/],
  ])('parley %j: exit 2 with a clear message and no stack trace', async (args, message) => {
    const r = await parley(args, { PARLEY_AUTH_JWT_SECRET: SECRET });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    noStackTrace(r);
  });

  it('says where the secret comes from when it is missing or too short', async () => {
    const missing = await parley(['token']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/PARLEY_AUTH_JWT_SECRET must be set/);
    const short = await parley(['token'], { PARLEY_AUTH_JWT_SECRET: 'short' });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 32 characters/);
  });

  it.each(['dev', 'edge', 'relay', 'transceiver', 'call', 'loadtest', 'keygen', 'token', 'agent-server'])(
    'parley %s --help shows examples',
    async (command) => {
      const r = await parley([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: parley ${command}`);
      expect(r.stdout).toMatch(/\nExamples:\n {2}\S/);
    },
  );
});

describe('parley call and loadtest fetch their token from a loopback dev edge', { timeout: 90_000 }, () => {
  let stack: DevStack;
  let plainEdge: ChildProcess | undefined;
  let plainEdgeUrl: string;

  beforeAll(async () => {
    stack = await startDevStack({
      httpPort: await freeTcpPort(),
      relayPort: await freeUdpPort(),
      icePort: await freeUdpPort(),
      jwtSecret: SECRET,
      readyTimeoutMs: 60_000,
      env: { PARLEY_LOG_LEVEL: 'warn' },
    });
    // A second, production-style edge on the same NATS: JWT auth, no dev token endpoint.
    const port = await freeTcpPort();
    plainEdgeUrl = `http://127.0.0.1:${port}`;
    plainEdge = fork(MAIN, ['edge'], {
      env: {
        ...process.env,
        NATS_URL: stack.natsUrl,
        PARLEY_HTTP_HOST: '127.0.0.1',
        PARLEY_HTTP_PORT: String(port),
        PARLEY_RELAY_ADVERTISE: `${stack.relay.host}:${stack.relay.port}`,
        PARLEY_AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
        PARLEY_METRICS_PORT: String(await freeTcpPort()),
        PARLEY_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      execArgv: [],
    });
    await new Promise<void>((resolve, reject) => {
      plainEdge?.once('message', () => resolve());
      plainEdge?.once('exit', (c) => reject(new Error(`edge exited with ${c}`)));
    });
  }, 200_000);

  afterAll(async () => {
    if (plainEdge && plainEdge.exitCode === null) {
      const gone = new Promise((r) => plainEdge?.once('exit', r));
      plainEdge.kill('SIGTERM');
      await gone;
    }
    await stack?.stop();
  });

  it('parley call <dev edge> with no --token completes a call', async () => {
    const r = await parley(['call', stack.edgeUrl, '--seconds', '1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.remoteCandidate).toBe(`${stack.relay.host}:${stack.relay.port}`);
    expect(result.packets.sent).toBe(50);
    expect(result.packets.received).toBeGreaterThan(45);
  });

  it('a token from `parley token` with the secret `parley dev` prints is accepted by that edge', async () => {
    const minted = await parley(['token', '--subject', 'cli-test'], {
      PARLEY_AUTH_JWT_SECRET: stack.jwtSecret,
    });
    expect(minted.code).toBe(0);
    const r = await parley(['call', stack.edgeUrl, '--seconds', '0.5', '--json'], {
      PARLEY_TOKEN: minted.stdout.trim(),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).packets.sent).toBe(25);
  });

  it('a token bound to an agent calls that agent without --agent (the edge refuses any other)', async () => {
    const minted = await parley(['token', '--agent', 'echo'], { PARLEY_AUTH_JWT_SECRET: stack.jwtSecret });
    const r = await parley(['call', stack.edgeUrl, '--seconds', '0.5', '--json'], {
      PARLEY_TOKEN: minted.stdout.trim(),
    });
    expect(r.code).toBe(0);
    const other = await parley(['call', stack.edgeUrl, '--seconds', '0.5', '--agent', 'rtp-echo'], {
      PARLEY_TOKEN: minted.stdout.trim(),
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/403: this token may only talk to agent "echo"/);
  });

  it('parley loadtest <dev edge> with no --token runs every session', async () => {
    const r = await parley([
      'loadtest',
      stack.edgeUrl,
      '--sessions',
      '2',
      '--ramp',
      '4',
      '--duration',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).sessions).toEqual({ started: 2, completed: 2, failed: 0 });
  });

  it('an edge that is not a dev edge: the 401 says it hands out no tokens and how to pass one', async () => {
    const r = await parley(['call', plainEdgeUrl, '--seconds', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/edge answered 401/);
    expect(r.stderr).toMatch(/hands out no dev tokens: it is not a `parley dev` edge; pass --token/);
    noStackTrace(r);
  });

  it('a remote edge is never asked for a token; nothing listening on loopback is named', async () => {
    const remote = await parley(['call', 'https://edge.example.invalid']);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toMatch(/no token for https:\/\/edge\.example\.invalid: pass --token/);
    const down = await parley(['loadtest', `http://127.0.0.1:${await freeTcpPort()}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach .* to fetch a dev token .*is `parley dev` running\?/);
  });
});
