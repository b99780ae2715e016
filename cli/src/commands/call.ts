import type { Command } from 'commander';
import { httpUrl, numberIn, word } from './flag-parsers.js';
import { agentClaimOf, resolveToken, TokenUnavailableError, unauthorizedHint } from './token-source.js';

interface CallFlags {
  token?: string;
  seconds: number;
  agent?: string;
  json?: boolean;
  tcp?: boolean;
}

export function registerCall(program: Command): void {
  program
    .command('call')
    .description('place one real WebRTC call (werift) through an edge and its relay, and report timings')
    .argument('<edge-url>', 'edge base URL, e.g. http://127.0.0.1:8080', httpUrl)
    .option(
      '--token <jwt>',
      'bearer token (default: PARLEY_TOKEN, else fetched from a loopback `parley dev` edge)',
    )
    .option('--seconds <n>', 'seconds of audio to send (0-3600)', numberIn(0.02, 3600), 5)
    .option(
      '--agent <name>',
      "agent to talk to: rtp-echo (default, or the token's parley_agent; reflects packets, transport RTT) or echo (through the voice pipeline)",
      word(64),
    )
    .option('--json', 'print one JSON object instead of text')
    .option('--tcp', "force ICE-TCP through the relay's TCP port (as behind a UDP-blocking firewall)")
    .addHelpText(
      'after',
      '\nSends Opus packets (silence carrying a probe number) at 50 packets/s and times the echo of each.\n' +
        'With --agent echo the reply is re-encoded audio, matched to probes by arrival order.\n' +
        'Token: --token, else PARLEY_TOKEN, else GET /dev/token on a loopback edge started by `parley dev`.\n' +
        'JSON fields: sessionUrl, setupMs {signaling, iceConnected, dtlsConnected, firstAudio} (ms from the\n' +
        'start of the call), rttMs {p50, p95, p99}, packets {sent, received, lost}, jitterMs, maxGapMs (longest\n' +
        'silence between two echoes), remoteCandidate "ip:port", transport "udp"|"tcp"; on failure\n' +
        '{ok: false, stage, error}; stage "ended" (with reason) when the edge reported session.ended\n' +
        "(GET <session URL>/events), e.g. transceiver_lost when the session's core region died.\n" +
        'Exit status: 0 when the call completed, 1 when it failed (the reason is printed), 2 on bad arguments.\n' +
        '\nExamples:\n' +
        '  parley call http://127.0.0.1:8080                      # against `parley dev`: no token needed\n' +
        '  parley call http://127.0.0.1:8080 --agent echo --seconds 10\n' +
        '  PARLEY_TOKEN=$(parley token) parley call https://edge.example.com --json',
    )
    .action(async (edgeUrl: string, o: CallFlags) => {
      const { runCall, CallError } = await import('@parley/loadtest/call/call-client.js');
      let token: Awaited<ReturnType<typeof resolveToken>>;
      try {
        token = await resolveToken(edgeUrl, { flag: o.token, env: process.env.PARLEY_TOKEN });
      } catch (err) {
        if (!(err instanceof TokenUnavailableError)) throw err;
        if (o.json)
          process.stdout.write(`${JSON.stringify({ ok: false, stage: 'token', error: err.message })}\n`);
        process.stderr.write(`call failed: ${err.message}\n`);
        process.exit(1);
      }
      try {
        const r = await runCall({
          edgeUrl,
          token: token.token,
          seconds: o.seconds,
          // A token bound to one agent (`parley token --agent echo`) may only call that one.
          agent: o.agent ?? agentClaimOf(token.token),
          tcp: o.tcp,
          // The edge's session.ended (e.g. transceiver_lost when the core region died) ends the call.
          watchEvents: true,
          onProgress: o.json
            ? undefined
            : (p) =>
                process.stderr.write(
                  `  sent ${p.sent}  received ${p.received}  rtt ${p.lastRttMs?.toFixed(1) ?? '-'} ms\r`,
                ),
        });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(r)}\n`);
        } else {
          process.stderr.write('\n');
          const s = r.setupMs;
          process.stdout.write(
            [
              `call ok via ${r.remoteCandidate} (${r.transport})`,
              `setup (ms from start): signaling ${s.signaling}  ice ${s.iceConnected}  dtls ${s.dtlsConnected}  first audio ${s.firstAudio}`,
              `echo rtt (ms): p50 ${r.rttMs.p50}  p95 ${r.rttMs.p95}  p99 ${r.rttMs.p99}  jitter ${r.jitterMs}`,
              `packets: sent ${r.packets.sent}  received ${r.packets.received}  lost ${r.packets.lost}`,
              '',
            ].join('\n'),
          );
        }
        process.exit(0);
      } catch (err) {
        const e = err as Error;
        const stage = err instanceof CallError ? ` at ${err.stage}` : '';
        const hint = err instanceof CallError && err.status === 401 ? unauthorizedHint(token.origin) : '';
        const reason = err instanceof CallError ? err.ended?.reason : undefined;
        if (o.json)
          process.stdout.write(
            `${JSON.stringify({ ok: false, stage: (err as { stage?: string }).stage, ...(reason && { reason }), error: e.message + hint })}\n`,
          );
        process.stderr.write(`call failed${stage}: ${e.message}${hint}\n`);
        process.exit(1);
      }
    });
}
