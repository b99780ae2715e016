import { readFileSync } from 'node:fs';
import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import {
  answerTransportProblem,
  answerWithRelayCandidate,
  offerTransportOf,
  RELAY_TCP_PRIORITY,
  stripCandidates,
} from './sdp-rewrite.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../edge/src/signaling/__fixtures__/${name}`, import.meta.url), 'utf8');
const chromeOffer = fixture('chrome-offer.sdp');
const weriftOffer = fixture('werift-offer.sdp');

describe('stripCandidates', () => {
  it('removes every candidate and keeps credentials, fingerprint and codecs', () => {
    expect(weriftOffer).toContain('a=candidate');
    const out = stripCandidates(weriftOffer);
    expect(out).not.toContain('a=candidate');
    const before = parse(weriftOffer);
    const after = parse(out);
    expect(after.media.map((m) => [m.type, m.mid, m.iceUfrag, m.iceUfrag ?? before.iceUfrag])).toEqual(
      before.media.map((m) => [m.type, m.mid, m.iceUfrag, m.iceUfrag ?? before.iceUfrag]),
    );
    expect(after.media[0]?.rtp.map((r) => r.codec)).toEqual(before.media[0]?.rtp.map((r) => r.codec));
    expect(after.fingerprint ?? after.media[0]?.fingerprint).toEqual(
      before.fingerprint ?? before.media[0]?.fingerprint,
    );
  });
});

describe('answerWithRelayCandidate', () => {
  it('leaves exactly one candidate per section: the relay, IPv4', () => {
    const out = parse(answerWithRelayCandidate(chromeOffer, { ip: '203.0.113.9', port: 3478 }));
    for (const m of out.media) {
      expect(m.candidates).toEqual([
        expect.objectContaining({
          ip: '203.0.113.9',
          port: 3478,
          transport: 'udp',
          type: 'host',
          component: 1,
        }),
      ]);
      expect(m.connection).toEqual({ version: 4, ip: '203.0.113.9' });
      expect(m.port).toBe(3478);
    }
  });

  it('adds the relay ICE-TCP candidate after the UDP one, passive, at a lower priority', () => {
    const out = parse(
      answerWithRelayCandidate(
        chromeOffer,
        { ip: '203.0.113.9', port: 3478 },
        { ip: '203.0.113.9', port: 443 },
      ),
    );
    for (const m of out.media) {
      const [udp, tcp] = m.candidates ?? [];
      expect(udp).toMatchObject({ transport: 'udp', port: 3478 });
      expect(tcp).toMatchObject({ transport: 'tcp', port: 443, type: 'host', tcptype: 'passive' });
      expect(tcp?.priority).toBe(RELAY_TCP_PRIORITY);
      expect(RELAY_TCP_PRIORITY).toBeLessThan(udp?.priority as number);
      expect(RELAY_TCP_PRIORITY).toBeLessThan(2 ** 31);
    }
  });

  it('writes an IPv6 relay with IP6 connection lines', () => {
    const out = parse(answerWithRelayCandidate(chromeOffer, { ip: '2001:db8::7', port: 3478 }));
    expect(out.media[0]?.connection).toEqual({ version: 6, ip: '2001:db8::7' });
    expect(out.media[0]?.candidates?.[0]?.ip).toBe('2001:db8::7');
  });
});

describe('offerTransportOf and answerTransportProblem', () => {
  const aiortc = fixture('aiortc-offer.sdp');
  it("reads the BUNDLE tag's credentials from an offer whose sections carry their own (aiortc)", () => {
    expect(offerTransportOf(aiortc)).toMatchObject({ ok: true, tagMid: '0', ufrag: '3cJH', bundled: true });
    expect(offerTransportOf(fixture('webrtcbin-no-bundle-offer.sdp'))).toMatchObject({ ok: false });
  });

  const answer = (lines: string) =>
    `v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n${lines}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:TOKEN\r\na=ice-pwd:pppppppppppppppppppppp\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\na=ice-ufrag:UFRAG\r\na=ice-pwd:pppppppppppppppppppppp\r\n`;

  it('accepts an answer whose every section carries the routing token, with BUNDLE iff offered', () => {
    const ok = answer('a=group:BUNDLE 0 1\r\n').replace('ufrag:UFRAG', 'ufrag:TOKEN');
    expect(answerTransportProblem(ok, 'TOKEN', true)).toBeUndefined();
    expect(answerTransportProblem(ok, 'TOKEN', false)).toMatch(/BUNDLE group the offer did not offer/);
    expect(answerTransportProblem(ok.replace('a=group:BUNDLE 0 1\r\n', ''), 'TOKEN', true)).toMatch(
      /dropped/,
    );
  });

  it("refuses an answer section with werift's own ufrag instead of the routing token", () => {
    expect(answerTransportProblem(answer(''), 'TOKEN', false)).toMatch(/mid=1 carries ICE ufrag UFRAG/);
  });
});

describe('answerWithRelayCandidate: ice-lite', () => {
  it('moves a=ice-lite from the m-sections (where werift writes it, and Firefox ignores it) to the session', () => {
    const answer =
      'v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n' +
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-lite\r\na=rtpmap:111 opus/48000/2\r\n' +
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=ice-lite\r\n';
    const out = answerWithRelayCandidate(answer, { ip: '203.0.113.9', port: 3478 });
    const sessionPart = out.slice(0, out.indexOf('m='));
    expect(sessionPart).toContain('a=ice-lite\r\n');
    expect(out.slice(out.indexOf('m=')).includes('a=ice-lite')).toBe(false);
    expect(parse(out).icelite).toBe('ice-lite');
  });
});
