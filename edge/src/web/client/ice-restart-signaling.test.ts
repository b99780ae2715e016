import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallFailure } from './failures.js';
import { restartSessionIce } from './signaling.js';

// A real HTTP server on loopback playing the edge's PATCH route.
describe('the page’s WHIP ICE restart (PATCH)', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; type?: string; ifMatch?: string; auth?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({
          method: req.method,
          type: req.headers['content-type'],
          ifMatch: req.headers['if-match'],
          auth: req.headers.authorization,
          body,
        });
        if (req.url === '/v1/sessions/ok') {
          res.writeHead(200, { 'Content-Type': 'application/trickle-ice-sdpfrag' });
          res.end('a=ice-lite\r\na=ice-ufrag:SeRvEr+/1\r\na=ice-pwd:serverpasswordserverpass\r\n');
        } else {
          res.writeHead(409, { 'Content-Type': 'application/problem+json' });
          res.end(
            JSON.stringify({
              status: 409,
              title: 'ICE session not established',
              detail: 'session is connecting',
            }),
          );
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends our credentials as an sdpfrag with If-Match: * and reads the server’s', async () => {
    const creds = await restartSessionIce({ fetch, token: 'tok' }, `${base}/v1/sessions/ok`, {
      ufrag: 'nEw1',
      pwd: 'abcdefghijklmnopqrstuvwx',
    });
    expect(creds).toEqual({ ufrag: 'SeRvEr+/1', pwd: 'serverpasswordserverpass' });
    expect(seen.at(-1)).toEqual({
      method: 'PATCH',
      type: 'application/trickle-ice-sdpfrag',
      ifMatch: '*',
      auth: 'Bearer tok',
      body: 'a=ice-ufrag:nEw1\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n',
    });
  });

  it('turns a refusal into a CallFailure carrying the edge’s detail', async () => {
    const err = await restartSessionIce({ fetch }, `${base}/v1/sessions/early`, {
      ufrag: 'nEw1',
      pwd: 'abcdefghijklmnopqrstuvwx',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CallFailure);
    expect(String((err as CallFailure).message) + JSON.stringify(err)).toMatch(/connecting/);
  });
});
