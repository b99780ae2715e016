import { readFileSync } from 'node:fs';
import { bump, fuzz, fuzzFloor, fuzzTimeout, invariant, mutatedBytes } from '@parley/shared/testing/fuzz.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateOffer } from './offer-validation.js';

/**
 * The SDP offer checks read whatever body a signed-in client POSTs. Under
 * fuzzing (line-aware edits of real Chrome and werift offers, byte-level
 * mutations, random text) validateOffer must never throw, and must either
 * accept with a list of audio mids or reject with a reason for the 400.
 */
const fixture = (name: string) =>
  readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8').replace(/\r?\n/g, '\r\n');
const OFFERS = [fixture('chrome-offer.sdp'), fixture('werift-offer.sdp')];
/**
 * Most inputs start from this short offer: sdp-transform costs ~100 us on
 * the captured ones (every grammar regex on every line), ~25 us on this,
 * and 100k inputs have to fit the CI budget. It keeps every line a check reads, and no other.
 */
const MINIMAL = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE a',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=ice-ufrag:f22e',
  'a=ice-pwd:875f35defde4208a60a203',
  'a=fingerprint:sha-256 E1:53:FD:E8:F1:9F:72:4F:7A:79:1F:F4:3D:0A:C6:37:E6:BF:86:EC:64:FF:F7:DF:55:71:DF:1E:B5:77:DE:B3',
  'a=mid:a',
  '',
].join('\r\n');

// Lines that move an offer across the checks' boundaries.
const INTERESTING_LINES = [
  'm=audio 0 UDP/TLS/RTP/SAVPF 111',
  'm=audio 9 RTP/AVP 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'm=audio',
  'm=',
  'a=bundle-only',
  'a=mid:',
  'a=mid:0',
  'a=ice-ufrag:',
  'a=ice-ufrag:ab',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:short',
  'a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'a=fingerprint:sha-256 ZZ',
  'a=fingerprint:sha-256',
  'a=fingerprint:',
  'a=rtpmap:111',
  'a=rtpmap:x opus/48000/2',
  'a=fmtp:111',
  'a=candidate:',
  'a=ssrc:1 cname:',
  'a=extmap:',
  'a=rid:',
  'a=simulcast:',
  'a=group:BUNDLE',
  'o=',
  'o=- x x IN IP4',
  'v=0',
  'c=IN IP4',
  'b=AS:',
  't=',
  '',
  '=',
  'a=',
  'a=:',
];

type Edit =
  | { op: 'drop' | 'dup' | 'cut'; at: number; n: number }
  | { op: 'insert'; at: number; line: string }
  | { op: 'value'; at: number; value: string }
  | { op: 'swap'; at: number; n: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    op: fc.constantFrom('drop' as const, 'dup' as const, 'cut' as const),
    at: fc.nat(),
    n: fc.nat(40),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    line: fc.oneof(
      { arbitrary: fc.constantFrom(...INTERESTING_LINES), weight: 4 },
      { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
    ),
  }),
  fc.record({
    op: fc.constant('value' as const),
    at: fc.nat(),
    value: fc.oneof(
      fc.constantFrom('', '0', '-1', '65536', 'x', ':', ' ', '\u0000', 'a'.repeat(300)),
      fc.string({ maxLength: 20 }),
    ),
  }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), n: fc.nat() }),
);

function applyEdits(sdp: string, edits: readonly Edit[], eol: string): string {
  const lines = sdp.split('\r\n');
  for (const e of edits) {
    const i = e.at % Math.max(lines.length, 1);
    const line = lines[i] ?? '';
    switch (e.op) {
      case 'drop':
        lines.splice(i, 1 + (e.n % 3));
        break;
      case 'dup':
        lines.splice(i, 0, line);
        break;
      case 'cut':
        lines[i] = line.slice(0, e.n);
        break;
      case 'insert':
        lines.splice(i, 0, e.line);
        break;
      case 'value': {
        // Replace what follows the first ':' (attributes) or '=' (other lines).
        const sep = line.indexOf(':') > 0 ? line.indexOf(':') : line.indexOf('=');
        lines[i] = sep < 0 ? e.value : line.slice(0, sep + 1) + e.value;
        break;
      }
      case 'swap': {
        const j = e.n % Math.max(lines.length, 1);
        [lines[i], lines[j]] = [lines[j] ?? '', line];
        break;
      }
    }
  }
  return lines.join(eol);
}

// The captured offers cost ~4x the minimal one to parse, so they are a fixed small share (~5 % of all
// inputs, ~5,000 per CI run): enough for their extra attributes, while most of the budget goes to edits.
const lineEdited = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constant(MINIMAL), weight: 30 }, fc.constantFrom(...OFFERS)),
    fc.array(edit, { minLength: 1, maxLength: 4 }),
    fc.constantFrom('\r\n', '\r\n', '\n', '\r', ''),
  )
  .map(([sdp, edits, eol]) => applyEdits(sdp, edits, eol));
const byteMutated = mutatedBytes([...Array(20).fill(MINIMAL), ...OFFERS].map((s) => Buffer.from(s))).map(
  (b) => b.toString('utf8'),
);
const randomText = fc
  .oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200, unit: 'binary' }))
  .map((s) => (s.length % 2 ? `v=0\r\n${s}` : s));

describe('validateOffer under fuzzing', () => {
  it('accepts the unedited offers', () => {
    for (const sdp of [MINIMAL, ...OFFERS]) expect(validateOffer(sdp)).toMatchObject({ ok: true });
  });

  it(
    'never throws, and answers every offer with audio mids or a reason',
    () => {
      const tally = new Map<string, number>();
      const arb = fc.oneof(
        { arbitrary: lineEdited, weight: 6 },
        { arbitrary: byteMutated, weight: 3 },
        { arbitrary: randomText, weight: 1 },
      );
      fuzz(arb, (sdp) => {
        const r = validateOffer(sdp);
        if (r.ok) {
          invariant(
            Array.isArray(r.audioMids) && r.audioMids.every((m) => typeof m === 'string'),
            'bad mids',
          );
          invariant(
            /^v=0\r?\n/.test(sdp) && sdp.includes('m=audio'),
            'accepted an offer without v=0 and m=audio',
          );
          bump(tally, 'ok');
        } else {
          invariant(typeof r.detail === 'string' && r.detail.length > 0, 'rejection without a reason');
          // Tally by reason, without the mid that varies.
          bump(tally, r.detail.replace(/mid=\S*|#\d+/, ''));
        }
      });
      expect(tally.get('ok') ?? 0).toBeGreaterThan(fuzzFloor(1000));
      // Every check rejected something: the inputs reach past the first line.
      expect(tally.size).toBeGreaterThan(8);
    },
    fuzzTimeout(),
  );
});
