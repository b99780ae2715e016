import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { NatsServerProcess } from './nats-server.js';

describe('NatsServerProcess', () => {
  let srv: NatsServerProcess | undefined;
  afterAll(() => srv?.stop());

  it('starts a real server that answers request/reply, and restarts on the same port', async () => {
    srv = await NatsServerProcess.start();
    for (let round = 0; round < 2; round++) {
      const nc = await connect({ servers: srv.url });
      nc.subscribe('echo', { callback: (_e, m) => {
          m.respond(m.data);
        },
      });
      const reply = await nc.request('echo', 'hi', { timeout: 2_000 });
      expect(reply.string()).toBe('hi');
      await nc.close();
      await srv.restart();
    }
  });
});
