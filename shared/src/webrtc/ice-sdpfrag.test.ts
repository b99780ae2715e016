import { describe, expect, it } from 'vitest';
import {
  iceCredentialsOf,
  MAX_SDPFRAG_BYTES,
  parseIceRestartFrag,
  serializeIceRestartFrag,
  withIceCredentials,
} from './ice-sdpfrag.js';

const PWD = 'abcdefghijklmnopqrstuvwx';

describe('parseIceRestartFrag', () => {
  it('reads session-level credentials (what RFC 9725 clients send)', () => {
    expect(parseIceRestartFrag(`a=ice-ufrag:Zx9+\r\na=ice-pwd:${PWD}\r\n`)).toEqual({
      ok: true,
      ufrag: 'Zx9+',
      pwd: PWD,
    });
  });

  it('reads media-level credentials, the mid, LF line ends, and ignores candidates', () => {
    const frag = [
      'a=ice-options:trickle',
      'a=group:BUNDLE 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:0',
      'a=ice-ufrag:wxyz',
      `a=ice-pwd:${PWD}`,
      'a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host',
      'a=end-of-candidates',
    ].join('\n');
    expect(parseIceRestartFrag(frag)).toEqual({ ok: true, ufrag: 'wxyz', pwd: PWD, mid: '0' });
  });

  it('accepts repeated identical credentials but not conflicting ones', () => {
    const same = `a=ice-ufrag:wxyz\r\na=ice-pwd:${PWD}\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=ice-ufrag:wxyz\r\n`;
    expect(parseIceRestartFrag(same).ok).toBe(true);
    const other = `${same}m=audio 9 RTP/AVP 0\r\na=mid:1\r\na=ice-ufrag:abcd\r\n`;
    expect(parseIceRestartFrag(other)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/conflicting/),
    });
  });

  it.each([
    ['missing pwd', 'a=ice-ufrag:wxyz\r\n', /needs/],
    ['missing ufrag', `a=ice-pwd:${PWD}\r\n`, /needs/],
    ['empty body', '', /needs/],
    ['ufrag too short', `a=ice-ufrag:abc\r\na=ice-pwd:${PWD}\r\n`, /invalid a=ice-ufrag/],
    [
      'pwd too short (21 chars)',
      'a=ice-ufrag:wxyz\r\na=ice-pwd:abcdefghijklmnopqrstu\r\n',
      /invalid a=ice-pwd/,
    ],
    ['non-ice characters', `a=ice-ufrag:wx:yz\r\na=ice-pwd:${PWD}\r\n`, /invalid a=ice-ufrag/],
    ['a full SDP (v= line)', `v=0\r\na=ice-ufrag:wxyz\r\na=ice-pwd:${PWD}\r\n`, /not an sdpfrag line/],
    ['JSON', '{"ufrag":"wxyz"}', /not an sdpfrag line/],
  ])('refuses %s', (_name, frag, detail) => {
    expect(parseIceRestartFrag(frag)).toMatchObject({ ok: false, detail: expect.stringMatching(detail) });
  });

  it('refuses oversized fragments before reading them', () => {
    const big = `a=ice-ufrag:wxyz\r\na=ice-pwd:${PWD}\r\n${'a=x\r\n'.repeat(MAX_SDPFRAG_BYTES / 5 + 1)}`;
    expect(parseIceRestartFrag(big)).toMatchObject({ ok: false, detail: expect.stringMatching(/bytes/) });
    const many = `a=ice-ufrag:wxyz\r\na=ice-pwd:${PWD}\r\n${'a=x\r\n'.repeat(200)}`;
    expect(parseIceRestartFrag(many)).toMatchObject({ ok: false, detail: expect.stringMatching(/lines/) });
  });
});

describe('serializeIceRestartFrag', () => {
  it('writes session-level credentials that parse back', () => {
    const text = serializeIceRestartFrag({ ufrag: 'AbC+/123', pwd: PWD });
    expect(text).toBe(`a=ice-lite\r\na=ice-ufrag:AbC+/123\r\na=ice-pwd:${PWD}\r\n`);
    expect(parseIceRestartFrag(text)).toEqual({ ok: true, ufrag: 'AbC+/123', pwd: PWD });
  });

  it('adds the named media section with the candidates and end-of-candidates', () => {
    const text = serializeIceRestartFrag(
      { ufrag: 'AbC+/123', pwd: PWD },
      { mid: '0', candidates: ['a=candidate:1 1 udp 2130706431 198.51.100.7 3478 typ host'] },
    );
    expect(text.split('\r\n')).toEqual([
      'a=ice-lite',
      'a=ice-ufrag:AbC+/123',
      `a=ice-pwd:${PWD}`,
      'm=audio 9 UDP/TLS/RTP/SAVPF 0',
      'a=mid:0',
      'a=candidate:1 1 udp 2130706431 198.51.100.7 3478 typ host',
      'a=end-of-candidates',
      '',
    ]);
    expect(parseIceRestartFrag(text)).toEqual({ ok: true, ufrag: 'AbC+/123', pwd: PWD, mid: '0' });
  });
});

describe('withIceCredentials / iceCredentialsOf', () => {
  it('swaps every credential line of a description and reads them back', () => {
    const sdp = `v=0\r\na=ice-ufrag:old1\r\na=ice-pwd:${'o'.repeat(22)}\r\nm=audio 9 X 0\r\na=ice-ufrag:old1\r\n`;
    const out = withIceCredentials(sdp, { ufrag: 'new1', pwd: PWD });
    expect(out).not.toContain('old1');
    expect(out.match(/a=ice-ufrag:new1/g)).toHaveLength(2);
    expect(iceCredentialsOf(out)).toEqual({ ufrag: 'new1', pwd: PWD });
    expect(iceCredentialsOf('v=0\r\n')).toBeUndefined();
  });
});
