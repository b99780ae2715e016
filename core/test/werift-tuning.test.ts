import { RTCDtlsTransport } from '@parley/shared/webrtc/werift-client.js';
import { tuneWerift } from '@parley/shared/webrtc/werift-tuning.js';
import { describe, expect, it } from 'vitest';

describe('werift tuning on the real werift', () => {
  it("applies both fixes to werift's shared certificate, and its fingerprints stay right", async () => {
    const cert = await RTCDtlsTransport.SetupCertificate();
    const before = cert.getFingerprints();
    const report = await tuneWerift(RTCDtlsTransport, import.meta.url);
    expect(report).toEqual({ nativeX25519: { ok: true }, memoizedFingerprints: true });
    expect(cert.getFingerprints()).toEqual(before);
    // Every peer connection gets this same certificate, so the memo serves them all.
    expect(await RTCDtlsTransport.SetupCertificate()).toBe(cert);
  });
});
