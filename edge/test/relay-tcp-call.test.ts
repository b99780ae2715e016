import { runCall } from '@parley/loadtest/call/call-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpRelayStack, type TcpRelayStack } from './tcp-relay-stack.js';

/**
 * Issue 11 item 1 end to end with real parts: edge (answers carry the
 * relay's TCP candidate after the UDP one), a transceiver (UDP only), the
 * relay with its ICE-TCP port, and a werift client forced onto TCP (its
 * UDP candidates removed from the answer), as `parley call --tcp` does.
 */
describe('a werift call over ICE-TCP through the relay', () => {
  let stack: TcpRelayStack;
  let edge: TcpRelayStack['edge'];
  let relay: TcpRelayStack['relay'];
  let udpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    stack = await startTcpRelayStack({ host: '127.0.0.1' });
    ({ edge, relay, udpPort, tcpPort } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('connects over TCP, echoes every packet, and names the relay TCP address', async () => {
    let answer = '';
    const r = await runCall({
      edgeUrl: edge.url,
      seconds: 1,
      tcp: true,
      onAnswer: (sdp) => {
        answer = sdp;
      },
    });
    // The answer: the UDP candidate first, then the TCP one (passive, lower priority).
    const candidates = answer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    expect(candidates[0]).toMatch(new RegExp(` udp \\d+ 127\\.0\\.0\\.1 ${udpPort} typ host`));
    expect(candidates[1]).toMatch(
      new RegExp(` tcp \\d+ 127\\.0\\.0\\.1 ${tcpPort} typ host tcptype passive`),
    );
    expect(r.transport).toBe('tcp');
    expect(r.remoteCandidate).toBe(`127.0.0.1:${tcpPort}`);
    expect(r.packets.sent).toBe(50);
    expect(r.packets.lost).toBe(0);
    expect(relay.relay.tcpCounters.established).toBeGreaterThanOrEqual(1);
    // Nothing went over the relay's UDP port: every flow it opened was TCP.
    expect(relay.relay.counters.flowsOpened).toBe(relay.relay.tcpCounters.established);
  });

  it('the same call without --tcp takes UDP (the higher-priority candidate)', async () => {
    const r = await runCall({ edgeUrl: edge.url, seconds: 0.4 });
    expect(r.transport).toBe('udp');
    expect(r.remoteCandidate).toBe(`127.0.0.1:${udpPort}`);
  });
});
