import { describe, expect, it } from 'vitest';
import { dtlsRoleForOffer } from './dtls-role.js';

describe('dtlsRoleForOffer', () => {
  it('is the DTLS server for actpass and active offers, and when the offer says nothing', () => {
    expect(dtlsRoleForOffer('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:actpass\r\n')).toBe('server');
    expect(dtlsRoleForOffer('v=0\r\na=setup:active\r\n')).toBe('server');
    expect(dtlsRoleForOffer('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n')).toBe('server');
  });

  it('is the client when the offer wants to be the server', () => {
    expect(dtlsRoleForOffer('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:passive\r\n')).toBe('client');
    expect(dtlsRoleForOffer('v=0\na=setup:PASSIVE\n')).toBe('client');
  });
});
