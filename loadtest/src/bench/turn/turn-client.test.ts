import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoturnServer, startCoturn } from './coturn-server.js';
import { openTurnChannel, TurnError } from './turn-client.js';
import { CHANNEL_MIN, channelData } from './turn-codec.js';

// Debian's coturn on loopback: the TURN client must satisfy a real server's
// long-term credential checks, or nothing here passes.
describe('TURN client against a real coturn', () => {
  let turn: CoturnServer;
  const sockets: Socket[] = [];

  async function udp(connectTo?: number): Promise<Socket> {
    const s = createSocket('udp4');
    sockets.push(s);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    if (connectTo) await new Promise<void>((r) => s.connect(connectTo, '127.0.0.1', () => r()));
    return s;
  }
  const next = (s: Socket) =>
    new Promise<{ msg: Buffer; port: number }>((r) =>
      s.once('message', (msg, rinfo) => r({ msg, port: rinfo.port })),
    );

  beforeAll(async () => {
    turn = await startCoturn({ relayPorts: 32 });
  }, 20_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await turn?.stop();
  });

  it('allocates, binds a channel and relays ChannelData to the peer and back', async () => {
    const peer = await udp();
    const client = await udp(turn.address.port);
    const ch = await openTurnChannel(client, {
      username: turn.username,
      password: turn.password,
      peer: { ip: '127.0.0.1', port: peer.address().port },
      channel: CHANNEL_MIN + 1,
    });
    expect(ch.relayed.ip).toBe('127.0.0.1');
    expect(ch.relayed.port).toBeGreaterThan(0);

    const atPeer = next(peer);
    client.send(channelData(ch.channel, Buffer.from('up through coturn')));
    const up = await atPeer;
    expect(up.msg.toString()).toBe('up through coturn');
    expect(up.port).toBe(ch.relayed.port);

    const atClient = next(client);
    peer.send(Buffer.from('down'), ch.relayed.port, '127.0.0.1');
    const down = await atClient;
    expect(down.msg.readUInt16BE(0)).toBe(ch.channel);
    expect(down.msg.subarray(4).toString()).toBe('down');
  });

  it('fails with 401 when the password is wrong', async () => {
    const client = await udp(turn.address.port);
    const err = await openTurnChannel(client, {
      username: turn.username,
      password: 'wrong',
      peer: { ip: '127.0.0.1', port: 9 },
      channel: CHANNEL_MIN,
      timeoutMs: 3_000,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TurnError);
    expect((err as TurnError).code).toBe(401);
  });
});
