/**
 * Runs inside a client geo's namespace: `calls` real WebRTC calls (werift,
 * rtp-echo) against the geo's edge, `parallel` at a time, and prints one
 * JSON line per call on stdout. argv[2]: JSON { edgeUrl, token, calls, seconds, parallel, watchEvents }.
 * With `watchEvents` each call also watches the edge's session event stream,
 * prints `{n, connected: true, at}` once DTLS is up, and a call the edge
 * reports ended fails with `stage: "ended"`, the reason and `endedAt` (wall ms).
 */
import { CallError, runCall } from '../call/call-client.js';

interface Args {
  edgeUrl: string;
  token: string;
  calls: number;
  seconds: number;
  parallel?: number;
  watchEvents?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let next = 0;
async function worker(): Promise<void> {
  while (next < args.calls) {
    const n = next++;
    let endedAt: number | undefined;
    try {
      const rtts: number[] = [];
      const r = await runCall({
        edgeUrl: args.edgeUrl,
        token: args.token,
        seconds: args.seconds,
        setupTimeoutMs: 20_000,
        onEcho: (ms) => rtts.push(Math.round(ms * 10) / 10),
        ...(args.watchEvents && {
          watchEvents: true,
          onConnected: () =>
            process.stdout.write(`${JSON.stringify({ n, connected: true, at: Date.now() })}\n`),
          onSessionEnded: (_notice: unknown, at: number) => {
            endedAt = at;
          },
        }),
      });
      process.stdout.write(`${JSON.stringify({ n, ok: true, ...r, rtts })}\n`);
    } catch (e) {
      const stage = e instanceof CallError ? e.stage : 'unknown';
      const reason = e instanceof CallError ? e.ended?.reason : undefined;
      process.stdout.write(
        `${JSON.stringify({ n, ok: false, stage, error: (e as Error).message, ...(reason && { reason, endedAt }) })}\n`,
      );
    }
  }
}
await Promise.all(Array.from({ length: Math.max(1, args.parallel ?? 1) }, () => worker()));
process.exit(0);
