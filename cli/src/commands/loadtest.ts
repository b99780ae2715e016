import type { Command } from 'commander';
import { httpUrl, word } from './flag-parsers.js';
import { resolveToken, TokenUnavailableError, unauthorizedHint } from './token-source.js';

interface LoadtestFlags {
  token?: string;
  sessions: string;
  ramp: string;
  duration: string;
  rate: string;
  agent?: string;
  setupTimeout: string;
  deadline?: string;
  json?: boolean;
}

export function registerLoadtest(program: Command): void {
  program
    .command('loadtest')
    .description('open many real WebRTC sessions (werift) through an edge and its relay, and summarize')
    .argument('<edge-url>', 'edge base URL, e.g. http://127.0.0.1:8080', httpUrl)
    .option(
      '--token <jwt>',
      'bearer token (default: PARLEY_TOKEN, else fetched from a loopback `parley dev` edge)',
    )
    .option('--sessions <n>', 'sessions to open in all (1-10000)', '10')
    .option('--ramp <r>', 'sessions started per second (0.1-1000)', '5')
    .option('--duration <s>', 'seconds of audio each session sends once connected (0.1-3600)', '10')
    .option('--rate <pps>', 'RTP packets per second each way per session (50 = 20 ms Opus frames)', '50')
    .option('--agent <name>', 'agent to talk to (default: the transceiver default)', word(64))
    .option('--setup-timeout <ms>', 'per session: give up on ICE/DTLS setup after this long', '15000')
    .option(
      '--deadline <s>',
      'stop the whole run after this long; sessions still going count as failed (default: ramp + setup timeout + duration + 15 s)',
    )
    .option('--json', 'print the summary as one JSON object on stdout')
    .addHelpText(
      'after',
      '\nSessions start at --ramp per second; each sends Opus-sized RTP at --rate packets/s for --duration\n' +
        'seconds after it connects, times every echo, then DELETEs its session. Progress (sessions started,\n' +
        'up, done, failed, median RTT of the last second) goes to stderr while it runs.\n' +
        'Summary: setup p50/p95/p99 per stage (signaling, ice, dtls, first audio; ms from the start of each\n' +
        'call), echo RTT p50/p95/p99, jitter, packets lost, failures by reason (e.g. "signaling 503", "dtls").\n' +
        'JSON fields: sessions {started, completed, failed}, setupMs {signaling, iceConnected, dtlsConnected,\n' +
        'firstAudio: {p50, p95, p99}}, rttMs {p50, p95, p99, max, samples}, jitterMs {p50, max},\n' +
        'packets {sent, received, lost, lossPercent}, failures {reason: count}, failureExamples, elapsedMs.\n' +
        'Token: --token, else PARLEY_TOKEN, else GET /dev/token on a loopback edge started by `parley dev`.\n' +
        'Exit status: 0 when every session completed, 1 when any failed, 2 on bad arguments.\n' +
        '\nExamples:\n' +
        '  parley loadtest http://127.0.0.1:8080 --sessions 20 --ramp 10     # against `parley dev`\n' +
        '  parley loadtest http://127.0.0.1:8080 --sessions 50 --duration 30 --agent echo --json\n' +
        '  PARLEY_TOKEN=$(parley token --ttl 600) parley loadtest https://edge.example.com --sessions 200',
    )
    .action(async (edgeUrl: string, o: LoadtestFlags) => {
      const { checkLoadOptions, runLoad } = await import('@parley/loadtest/load/load-runner.js');
      const { formatProgress, formatSummary } = await import('@parley/loadtest/load/format-summary.js');
      const numbers = {
        sessions: Number(o.sessions),
        rampPerSecond: Number(o.ramp),
        durationSeconds: Number(o.duration),
        packetRate: Number(o.rate),
      };
      const setupTimeoutMs = Number(o.setupTimeout);
      const deadlineSeconds = o.deadline === undefined ? undefined : Number(o.deadline);
      try {
        checkLoadOptions(numbers);
        if (!Number.isFinite(setupTimeoutMs) || setupTimeoutMs < 100 || setupTimeoutMs > 120_000)
          throw new RangeError('--setup-timeout must be 100 to 120000 ms');
        if (deadlineSeconds !== undefined && !(deadlineSeconds > 0 && deadlineSeconds <= 86_400))
          throw new RangeError('--deadline must be 1 to 86400 seconds');
      } catch (err) {
        process.stderr.write(`parley loadtest: ${(err as Error).message}\n`);
        process.exit(2);
      }
      let token: Awaited<ReturnType<typeof resolveToken>>;
      try {
        token = await resolveToken(edgeUrl, { flag: o.token, env: process.env.PARLEY_TOKEN });
      } catch (err) {
        if (!(err instanceof TokenUnavailableError)) throw err;
        process.stderr.write(`parley loadtest: ${err.message}\n`);
        process.exit(1);
      }
      const tty = process.stderr.isTTY;
      const summary = await runLoad({
        edgeUrl,
        token: token.token,
        ...numbers,
        agent: o.agent,
        setupTimeoutMs,
        deadlineMs: deadlineSeconds === undefined ? undefined : deadlineSeconds * 1000,
        // A terminal gets one line that updates in place; a log gets one line per second.
        onProgress: (p) => process.stderr.write(`${formatProgress(p)}${tty ? '\x1b[K\r' : '\n'}`),
      });
      if (tty) process.stderr.write('\n');
      const hint = unauthorizedHint(token.origin);
      if (hint && Object.keys(summary.failures).some((r) => r.includes('401')))
        process.stderr.write(`sessions were refused with 401${hint}\n`);
      process.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
      process.exit(summary.sessions.failed === 0 ? 0 : 1);
    });
}
