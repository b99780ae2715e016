import { describe, expect, it } from 'vitest';
import { MAX_BUNDLE_HINT, type OfferMediaFields, offerTransport } from './offer-transport.js';

const audio = (mid: string, ufrag: string, extra: Partial<OfferMediaFields> = {}): OfferMediaFields => ({
  type: 'audio',
  port: 9,
  mid,
  iceUfrag: ufrag,
  icePwd: `${ufrag}-password-long-enough`,
  ...extra,
});
const data = (mid: string, ufrag: string, extra: Partial<OfferMediaFields> = {}): OfferMediaFields => ({
  ...audio(mid, ufrag, extra),
  type: 'application',
});

describe('offerTransport: the one transport of a Parley session', () => {
  it('takes the BUNDLE tag credentials when bundled sections carry their own (aiortc with a data channel)', () => {
    const t = offerTransport({
      groups: [{ type: 'BUNDLE', mids: '0 1' }],
      media: [audio('0', 'aaaa'), data('1', 'bbbb')],
    });
    expect(t).toEqual({
      ok: true,
      tagMid: '0',
      ufrag: 'aaaa',
      pwd: 'aaaa-password-long-enough',
      bundled: true,
    });
  });

  it('takes the first mid of the group, not the first m-line', () => {
    const t = offerTransport({
      groups: [{ type: 'BUNDLE', mids: '1 0' }],
      media: [audio('0', 'aaaa'), data('1', 'bbbb')],
    });
    expect(t).toMatchObject({ ok: true, tagMid: '1', ufrag: 'bbbb' });
  });

  it('skips bundle-only and rejected mids when picking the tag', () => {
    const t = offerTransport({
      groups: [{ type: 'BUNDLE', mids: '0 1 2' }],
      media: [
        audio('0', 'aaaa', { port: 0 }),
        audio('1', 'bbbb', { port: 0, bundleOnly: 'bundle-only' }),
        data('2', 'cccc'),
      ],
    });
    expect(t).toMatchObject({ ok: true, tagMid: '2', ufrag: 'cccc' });
  });

  it('falls back to session-level credentials', () => {
    const t = offerTransport({
      groups: [{ type: 'BUNDLE', mids: '0' }],
      iceUfrag: 'sess',
      icePwd: 'session-password-long-enough',
      media: [{ type: 'audio', port: 9, mid: '0' }],
    });
    expect(t).toMatchObject({ ok: true, ufrag: 'sess', pwd: 'session-password-long-enough' });
  });

  it('accepts one active section without a BUNDLE group (webrtcbin bundle-policy=none, audio only)', () => {
    const t = offerTransport({ media: [audio('audio0', 'aaaa'), data('x', 'bbbb', { port: 0 })] });
    expect(t).toEqual({
      ok: true,
      tagMid: 'audio0',
      ufrag: 'aaaa',
      pwd: 'aaaa-password-long-enough',
      bundled: false,
    });
  });

  it('refuses several sections without a BUNDLE group, naming max-bundle (webrtcbin default with a data channel)', () => {
    const t = offerTransport({
      media: [audio('audio0', 'aaaa'), data('application1', 'bbbb', { bundleOnly: 'bundle-only' })],
    });
    expect(t.ok).toBe(false);
    if (!t.ok) {
      expect(t.detail).toContain('2 m-sections and no BUNDLE group');
      expect(t.detail).toContain(MAX_BUNDLE_HINT);
      expect(t.detail).toContain('max-bundle');
    }
  });

  it('refuses an active section outside the BUNDLE group', () => {
    const t = offerTransport({
      groups: [{ type: 'BUNDLE', mids: '0' }],
      media: [audio('0', 'aaaa'), data('1', 'bbbb')],
    });
    expect(t).toMatchObject({ ok: false });
    if (!t.ok) expect(t.detail).toMatch(/outside its BUNDLE group \(mid=1\)/);
  });

  it('refuses two BUNDLE groups', () => {
    const t = offerTransport({
      groups: [
        { type: 'BUNDLE', mids: '0' },
        { type: 'BUNDLE', mids: '1' },
      ],
      media: [audio('0', 'aaaa'), data('1', 'bbbb')],
    });
    expect(t).toMatchObject({ ok: false });
  });

  it('refuses a tag without credentials, and an offer with nothing active', () => {
    expect(
      offerTransport({
        groups: [{ type: 'BUNDLE', mids: '0 1' }],
        media: [{ type: 'audio', port: 9, mid: '0' }, data('1', 'bbbb')],
      }),
    ).toMatchObject({ ok: false, detail: expect.stringContaining('mid=0') });
    expect(offerTransport({ media: [audio('0', 'aaaa', { port: 0 })] })).toMatchObject({ ok: false });
  });
});
