import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { relayFromAnswer } from './relay-candidate.js';

// A real answer from the transceiver (through the edge), CRLF as on the wire.
const answer = readFileSync(new URL('./__fixtures__/parley-answer.sdp', import.meta.url), 'utf8').replace(
  /\r?\n/g,
  '\r\n',
);

describe('relayFromAnswer', () => {
  it("finds the relay address in a Parley answer's only candidate", () => {
    expect(relayFromAnswer(answer)).toBe('127.0.0.1:13478');
  });

  it('brackets IPv6 relays and skips TCP candidates', () => {
    const v6 = answer.replace(
      /a=candidate:relay 1 udp 2130706431 127\.0\.0\.1 13478 typ host/,
      'a=candidate:t 1 tcp 1 10.0.0.9 443 typ host tcptype passive\r\na=candidate:relay 1 udp 2130706431 2001:db8::1 3478 typ host',
    );
    expect(relayFromAnswer(v6)).toBe('[2001:db8::1]:3478');
  });

  it('no candidates or not SDP at all: undefined', () => {
    expect(relayFromAnswer(answer.replace(/a=candidate:[^\r]*\r\n/g, ''))).toBeUndefined();
    expect(relayFromAnswer('hello')).toBeUndefined();
  });
});
