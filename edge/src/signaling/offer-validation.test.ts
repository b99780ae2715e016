import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateOffer } from './offer-validation.js';

// Fixtures are stored with LF; SDP on the wire uses CRLF. Both must pass.
function fixture(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}
const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
const CHROME = crlf(fixture('chrome-offer.sdp'));
const WERIFT = crlf(fixture('werift-offer.sdp'));

function detailOf(sdp: string): string {
  const r = validateOffer(sdp);
  if (r.ok) throw new Error('expected the offer to be rejected');
  return r.detail;
}

describe('validateOffer', () => {
  it('accepts a Chromium offer and a werift offer, with CRLF or LF', () => {
    expect(validateOffer(CHROME)).toEqual({ ok: true, audioMids: ['0'] });
    expect(validateOffer(WERIFT)).toEqual({ ok: true, audioMids: ['0'] });
    expect(validateOffer(fixture('chrome-offer.sdp')).ok).toBe(true);
  });

  it('rejects text that is not SDP', () => {
    expect(detailOf('')).toMatch(/v=0/);
    expect(detailOf('hello world')).toMatch(/v=0/);
    expect(detailOf(`\r\n${CHROME}`)).toMatch(/v=0/);
    expect(detailOf(CHROME.replace(/o=.*\r\n/, ''))).toMatch(/origin/);
  });

  it('rejects offers with no usable audio m-section', () => {
    expect(detailOf(CHROME.replace('m=audio', 'm=video'))).toMatch(/audio/);
    expect(detailOf(CHROME.replace('m=audio 9', 'm=audio 0'))).toMatch(/audio/);
    expect(detailOf(CHROME.slice(0, CHROME.indexOf('m=audio')))).toMatch(/audio/);
  });

  it('accepts a bundle-only audio section with port 0', () => {
    const sdp = CHROME.replace('m=audio 9', 'm=audio 0').replace(
      'a=mid:0\r\n',
      'a=mid:0\r\na=bundle-only\r\n',
    );
    expect(validateOffer(sdp).ok).toBe(true);
  });

  it('rejects plain RTP: no DTLS-SRTP, no WebRTC', () => {
    expect(detailOf(CHROME.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'))).toMatch(/DTLS-SRTP/);
  });

  it('requires ICE credentials, at media or session level', () => {
    expect(detailOf(CHROME.replace(/a=ice-ufrag:.*\r\n/, ''))).toMatch(/ice-ufrag/);
    expect(detailOf(CHROME.replace(/a=ice-pwd:.*\r\n/, ''))).toMatch(/ice-pwd/);
    expect(detailOf(CHROME.replace('a=ice-ufrag:Zq3W', 'a=ice-ufrag:ab'))).toMatch(/invalid a=ice-ufrag/);
    expect(detailOf(CHROME.replace(/a=ice-pwd:.*\r\n/, 'a=ice-pwd:short\r\n'))).toMatch(/invalid a=ice-pwd/);

    // Moved to session level: still fine (RFC 8839 allows both).
    const lines = CHROME.match(/a=ice-(ufrag|pwd):.*\r\n/g) as string[];
    let moved = CHROME;
    for (const l of lines) moved = moved.replace(l, '');
    moved = moved.replace('t=0 0\r\n', `t=0 0\r\n${lines.join('')}`);
    expect(validateOffer(moved).ok).toBe(true);
  });

  it('requires a well-formed DTLS fingerprint, at media or session level', () => {
    const line = (CHROME.match(/a=fingerprint:.*\r\n/) as RegExpMatchArray)[0];
    expect(detailOf(CHROME.replace(line, ''))).toMatch(/fingerprint/);
    expect(detailOf(CHROME.replace(line, 'a=fingerprint:sha-256 not-a-hash\r\n'))).toMatch(
      /malformed a=fingerprint/,
    );
    expect(validateOffer(CHROME.replace(line, '').replace('t=0 0\r\n', `t=0 0\r\n${line}`)).ok).toBe(true);
  });

  it('checks every active audio section, not just the first', () => {
    const audio = CHROME.slice(CHROME.indexOf('m=audio'));
    // Both in the BUNDLE group: a section outside it would be a second transport (refused below).
    const bundled = CHROME.replace('a=group:BUNDLE 0', 'a=group:BUNDLE 0 1');
    const second = audio.replace('a=mid:0', 'a=mid:1').replace(/a=fingerprint:.*\r\n/, '');
    expect(detailOf(bundled + second)).toMatch(/mid=1 has no a=fingerprint/);
    expect(validateOffer(bundled + audio.replace('a=mid:0', 'a=mid:1'))).toEqual({
      ok: true,
      audioMids: ['0', '1'],
    });
  });

  // Real offers from independent stacks (python3-aiortc 1.4, GStreamer 1.22 webrtcbin), captured once.
  it('accepts bundled sections with their own ICE credentials (aiortc with a data channel)', () => {
    expect(validateOffer(crlf(fixture('aiortc-offer.sdp')))).toEqual({ ok: true, audioMids: ['0'] });
  });

  it('refuses an offer with a transport per section (webrtcbin bundle-policy=none), naming max-bundle', () => {
    const sdp = crlf(fixture('webrtcbin-no-bundle-offer.sdp'));
    expect(detailOf(sdp)).toMatch(/no BUNDLE group.*bundle-policy=max-bundle/);
    // The same offer with its two sections bundled is fine.
    expect(
      validateOffer(sdp.replace('t=0 0\r\n', 't=0 0\r\na=group:BUNDLE audio0 application1\r\n')).ok,
    ).toBe(true);
  });

  it('refuses a section outside the BUNDLE group', () => {
    const audio = CHROME.slice(CHROME.indexOf('m=audio'));
    expect(detailOf(CHROME + audio.replace('a=mid:0', 'a=mid:1'))).toMatch(
      /outside its BUNDLE group \(mid=1\)/,
    );
  });
});
