/**
 * Runs inside a client geo's namespace: creates sessions on an edge
 * (signaling only: POST a real werift offer, then DELETE) every `everyMs`
 * for `durationMs`, and prints one JSON line per attempt with the wall-clock
 * time, so a drill can see where new sessions land before and after a fault.
 * argv[2]: JSON { edgeUrl, token, everyMs, durationMs }.
 */
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';

interface Args {
  edgeUrl: string;
  token: string;
  everyMs: number;
  durationMs: number;
  /** Stop after this many attempts. */
  count?: number;
  /** Keep the sessions until the end (to fill a cluster), then delete them all. */
  hold?: boolean;
  /** Send all `count` offers at once (a cluster fills before its transceivers reclaim unconnected setups, 3 s). */
  burst?: boolean;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const pc = new RTCPeerConnection({ iceServers: [] });
pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
await pc.setLocalDescription(await pc.createOffer());
const offer = pc.localDescription?.sdp as string;
const end = Date.now() + args.durationMs;
const headers = { authorization: `Bearer ${args.token}` };
const held: string[] = [];
async function attempt(): Promise<void> {
  const t = Date.now();
  try {
    const res = await fetch(new URL('/v1/sessions?agent=rtp-echo', args.edgeUrl), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/sdp' },
      body: offer,
      signal: AbortSignal.timeout(10_000),
    });
    await res.text();
    const location = res.headers.get('location') ?? undefined;
    process.stdout.write(`${JSON.stringify({ t, ms: Date.now() - t, status: res.status, location })}\n`);
    if (location) held.push(location);
  } catch (e) {
    process.stdout.write(
      `${JSON.stringify({ t, ms: Date.now() - t, status: 0, error: (e as Error).message })}\n`,
    );
  }
}
if (args.burst) await Promise.all(Array.from({ length: args.count ?? 1 }, () => attempt()));
let attempts = args.burst ? Number.POSITIVE_INFINITY : 0;
while (Date.now() < end && attempts++ < (args.count ?? Number.POSITIVE_INFINITY)) {
  const t = Date.now();
  try {
    const res = await fetch(new URL('/v1/sessions?agent=rtp-echo', args.edgeUrl), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/sdp' },
      body: offer,
      signal: AbortSignal.timeout(10_000),
    });
    await res.text();
    const location = res.headers.get('location') ?? undefined;
    process.stdout.write(`${JSON.stringify({ t, ms: Date.now() - t, status: res.status, location })}\n`);
    if (location)
      await fetch(new URL(location, args.edgeUrl), { method: 'DELETE', headers }).then((r) => r.text());
  } catch (e) {
    process.stdout.write(
      `${JSON.stringify({ t, ms: Date.now() - t, status: 0, error: (e as Error).message })}\n`,
    );
  }
  await new Promise((r) => setTimeout(r, Math.max(0, t + args.everyMs - Date.now())));
}
for (const location of held)
  await fetch(new URL(location, args.edgeUrl), { method: 'DELETE', headers }).then((r) => r.text());
await pc.close();
process.exit(0);
