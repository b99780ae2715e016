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

/**
 * glibc malloc arenas for the transceiver: 2, where glibc allows 8 per core.
 * Node's threads (the V8 GC helpers, libuv's pool) each take an arena of
 * their own, and sessions closed and opened leave them fragmented: RSS per
 * session after an earlier load step, at 500-600 rtp-echo sessions
 * (`npm run bench -- --only transceiver --sessions 300,500 | 500,600
 * --every-count`, three pairs back to back): 164-194 KiB with 2 arenas,
 * 196-282 without; the same CPU per session (0.095-0.127 % of a core
 * against 0.11-0.13). A first step on a fresh process reads ~130 either way.
 * Set in the environment at start (glibc reads it once), as NODE_OPTIONS is.
 */
export const TRANSCEIVER_MALLOC_ARENA_MAX = '2';

/**
 * The environment a transceiver child starts with, on top of its caller's:
 * NODE_OPTIONS (transceiverNodeOptions) and MALLOC_ARENA_MAX, each unless the
 * caller set it already (theirs wins).
 */
export function transceiverProcessEnv(inherited: {
  NODE_OPTIONS?: string | undefined;
  MALLOC_ARENA_MAX?: string | undefined;
}): { NODE_OPTIONS: string; MALLOC_ARENA_MAX: string } {
  return {
    NODE_OPTIONS: transceiverNodeOptions(inherited.NODE_OPTIONS),
    MALLOC_ARENA_MAX: inherited.MALLOC_ARENA_MAX || TRANSCEIVER_MALLOC_ARENA_MAX,
  };
}
