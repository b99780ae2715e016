import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Pure logic takes its time from an injected Clock and its wake-ups from
 * injected Timers (shared/src/time/clock.ts), never from the globals: a
 * test then moves time by hand, and nothing in these modules can depend on
 * when it happens to run. This lists them explicitly; an I/O shell (relay.ts,
 * server.ts, transceiver-session.ts, ...) names the real clock and passes it in.
 */
const PURE_MODULES = [
  // Token codec and STUN
  'shared/src/token/routing-token.ts',
  'shared/src/stun/stun-message.ts',
  'shared/src/stun/stun-build.ts',
  'shared/src/stun/demux.ts',
  'core/src/ice/stun-guard.ts',
  // Discovery and placement
  'shared/src/discovery/transceiver-table.ts',
  'shared/src/discovery/cluster-rtt.ts',
  'shared/src/discovery/choose-transceiver.ts',
  'edge/src/signaling/placement.ts',
  'edge/src/signaling/session-registry.ts',
  'edge/src/signaling/offer-validation.ts',
  // The relay's state, apart from its sockets
  'edge/src/relay/flow-table.ts',
  'edge/src/relay/route-table.ts',
  'edge/src/relay/new-flow-limiter.ts',
  'edge/src/relay/revocation-set.ts',
  'edge/src/relay/first-packet.ts',
  'edge/src/relay/rtp-quality.ts',
  'edge/src/relay/rfc4571-framing.ts',
  'edge/src/relay/relay-counters.ts',
  'edge/src/relay/flow-cache.ts',
  // Sessions: lifecycle, deadlines, admission
  'core/src/session/session-lifecycle.ts',
  'core/src/session/session-timer-wheel.ts',
  'core/src/session/setup-admission.ts',
  'core/src/session/session-manager.ts',
  'core/src/session/dtls-role.ts',
  'core/src/session/sdp-rewrite.ts',
  // Turn-taking
  'core/src/media/turn/endpointer.ts',
  'core/src/media/turn/barge-in.ts',
  'core/src/media/turn/turn-config.ts',
] as const;

/** Reads of the global clock, and Node's timers called directly (not a `timers.setTimeout` that was injected). */
const GLOBAL_TIME =
  /\b(?:Date\.now|performance\.now|process\.hrtime)\b|new Date\(\s*\)|(?<![.\w$])(?:setTimeout|setInterval|clearTimeout|clearInterval)\s*\(/g;

/**
 * Source without comments (a comment may say "Date.now"), line numbers kept;
 * strings are kept, they hold no calls. setImmediate is allowed: it defers
 * work to the next turn and reads no time.
 */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ''))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Each direct use as `line: text`. */
export function globalTimeUses(text: string): string[] {
  const lines = code(text).split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    for (const m of line.matchAll(GLOBAL_TIME)) out.push(`${i + 1}: ${m[0]}`);
  });
  return out;
}

describe('clock discipline', () => {
  it('finds direct clock reads and timer calls, not injected ones or comments', () => {
    const sample = [
      'const a = Date.now();',
      'const b = opts.clock ?? Date.now;',
      'const c = performance.now() + process.hrtime.bigint();',
      'const d = new Date();',
      'const e = new Date(ts); // Date.now in a comment',
      'setTimeout(fn, 1); this.timers.setTimeout(fn, 1); backgroundTimers.setInterval(fn, 5);',
      '/* setInterval(x)\n */ clearTimeout (t); setImmediate(next);',
    ].join('\n');
    expect(globalTimeUses(sample)).toEqual([
      '1: Date.now',
      '2: Date.now',
      '3: performance.now',
      '3: process.hrtime',
      '4: new Date()',
      '6: setTimeout(',
      '8: clearTimeout (',
    ]);
  });

  it.each(PURE_MODULES)('%s takes its time from an injected clock', (path) => {
    const text = readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
    expect(globalTimeUses(text)).toEqual([]);
  });
});
