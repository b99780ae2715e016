import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCall } from '../../call/call-client.js';
import { candidatesOnLoopback, DirectPeerServer } from './direct-peer.js';

describe('direct werift peer (the setup baseline)', () => {
  const peer = new DirectPeerServer();
  let url: string;

  beforeAll(async () => {
    ({ url } = await peer.start());
  });
  afterAll(() => peer.close());

  it('answers a real werift call over HTTP, echoes every packet, and closes on DELETE', async () => {
    const r = await runCall({ edgeUrl: url, seconds: 0.4, setupTimeoutMs: 10_000 });
    expect(r.packets).toEqual({ sent: 20, received: 20, lost: 0 });
    expect(r.remoteCandidate).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(r.setupMs.firstAudio).toBeGreaterThan(r.setupMs.signaling);
    // runCall DELETEs its session before it returns.
    expect(peer.open).toBe(0);
  });

  it('moves IPv4 candidates to loopback and drops IPv6 ones', () => {
    const sdp = [
      'v=0',
      'a=candidate:1 1 udp 2116026367 192.0.2.2 42086 typ host generation 0',
      'a=candidate:2 1 udp 2116026367 fd00::2 42087 typ host generation 0',
      'a=end-of-candidates',
    ].join('\r\n');
    expect(candidatesOnLoopback(sdp).split('\r\n')).toEqual([
      'v=0',
      'a=candidate:1 1 udp 2116026367 127.0.0.1 42086 typ host generation 0',
      'a=end-of-candidates',
    ]);
  });
});
