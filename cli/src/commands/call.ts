import type { Command } from 'commander';

export function registerCall(program: Command): void {
  program
    .command('call')
    .description('place one real WebRTC call (werift) through an edge and its relay, and report timings')
    .argument('<edge-url>', 'edge base URL, e.g. http://127.0.0.1:8080')
    .option('--token <jwt>', 'bearer token (or PARLEY_TOKEN)')
    .option('--seconds <n>', 'seconds of audio to send', '5')
    .option(
      '--agent <name>',
      'agent to talk to: rtp-echo (default; reflects packets, transport RTT) or echo (through the voice pipeline)',
    )
    .option('--json', 'print one JSON object instead of text')
    .addHelpText(
      'after',
      '\nSends Opus packets (silence carrying a probe number) at 50 packets/s and times the echo of each.\n' +
        'With --agent echo the reply is re-encoded audio, matched to probes by arrival order.\n' +
        'JSON fields: setupMs {signaling, iceConnected, dtlsConnected, firstAudio} (from the start of the call),\n' +
        'rttMs {p50, p95, p99}, packets {sent, received, lost}, jitterMs, remoteCandidate "ip:port".\n' +
        'Exit status: 0 when the call completed, 1 when it failed (the reason is printed).',
    )
    .action(
      async (edgeUrl: string, o: { token?: string; seconds: string; agent?: string; json?: boolean }) => {
        const seconds = Number(o.seconds);
        if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
          process.stderr.write('--seconds must be a number between 0 and 3600\n');
          process.exit(2);
        }
        const { runCall, CallError } = await import('@parley/loadtest/call/call-client.js');
        const token = o.token ?? process.env.PARLEY_TOKEN;
        try {
          const r = await runCall({
            edgeUrl,
            token,
            seconds,
            agent: o.agent,
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
                `call ok via ${r.remoteCandidate}`,
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
          if (o.json)
            process.stdout.write(
              `${JSON.stringify({ ok: false, stage: (err as { stage?: string }).stage, error: e.message })}\n`,
            );
          process.stderr.write(`call failed${stage}: ${e.message}\n`);
          process.exit(1);
        }
      },
    );
}
