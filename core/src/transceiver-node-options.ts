/**
 * Node flags the transceiver runs with, as NODE_OPTIONS wherever it starts:
 * the image (docker/Dockerfile's transceiver stage), `parley dev` and the
 * bench stack. They must be given at start-up: V8 sizes its heap when the
 * process starts, and setting the flag later has no reliable effect.
 *
 * --max-semi-space-size=2 (MiB): V8 grows the young generation with the
 * survival rate of what it scavenges, up to 32 MiB per semi-space by default,
 * and does not give it back. A transceiver's sessions keep much of what they
 * allocate (werift's connection state), so its young generation reached
 * 102 MiB at 300 rtp-echo sessions (29 MiB idle, grown by start-up):
 * ~250 KiB of the ~550 KiB RSS per session, and 17 MiB of the idle RSS.
 * Capped, it stays at 1-4 MiB. Scavenges come more often but each copies
 * only what survives; CPU per echoed packet (media-transport-bench) measured
 * the same or lower with the cap.
 */
export const TRANSCEIVER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * NODE_OPTIONS for a transceiver child: the caller's own options kept, ours
 * added unless the caller already sets the same flag (theirs wins).
 */
export function transceiverNodeOptions(inherited: string | undefined): string {
  const own = (inherited ?? '').split(/\s+/).filter((o) => o !== '');
  const flagOf = (o: string) => o.split('=')[0];
  const added = TRANSCEIVER_NODE_OPTIONS.filter((o) => !own.some((x) => flagOf(x) === flagOf(o)));
  return [...own, ...added].join(' ');
}
