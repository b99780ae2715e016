import { describe, expect, it } from 'vitest';
import { takeSessionEnded, watchSessionEnd } from './session-end-stream.js';

const EVENT = 'event: session.ended\ndata: {"type":"session.ended","reason":"transceiver_lost","t":4100}\n\n';

describe('takeSessionEnded', () => {
  it('finds session.ended among comments and keeps an unfinished block for later', () => {
    const { ended, rest } = takeSessionEnded(`retry: 2000\n: watching session\n\n${EVENT}event: sess`);
    expect(ended).toEqual([{ type: 'session.ended', reason: 'transceiver_lost', t: 4100 }]);
    expect(rest).toBe('event: sess');
  });

  it('reads CRLF streams and ignores other events and garbled data', () => {
    const { ended } = takeSessionEnded(
      'event: other\r\ndata: {}\r\n\r\nevent: session.ended\r\ndata: not json\r\n\r\n' +
        EVENT.replace(/\n/g, '\r\n'),
    );
    expect(ended.map((e) => e.reason)).toEqual(['transceiver_lost']);
  });
});

describe('watchSessionEnd', () => {
  const streamOf = (chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
        c.close();
      },
    });

  it('sends the token, and calls back once with the event split across chunks', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const fake = (async (url: string, init: RequestInit) => {
      seen.push({ url, auth: new Headers(init.headers).get('Authorization') });
      return new Response(streamOf([': hi\n\nevent: session.en', EVENT.slice(17)]), { status: 200 });
    }) as unknown as typeof fetch;
    const got: string[] = [];
    await watchSessionEnd(
      { fetch: fake, token: 'tok' },
      'https://edge/v1/sessions/x.y',
      (e) => got.push(e.reason),
      new AbortController().signal,
    );
    expect(seen).toEqual([{ url: 'https://edge/v1/sessions/x.y/events', auth: 'Bearer tok' }]);
    expect(got).toEqual(['transceiver_lost']);
  });

  it('stays silent on an edge without the route', async () => {
    const fake = (async () => new Response('{}', { status: 405 })) as unknown as typeof fetch;
    const got: string[] = [];
    await watchSessionEnd(
      { fetch: fake },
      'https://edge/s',
      (e) => got.push(e.reason),
      new AbortController().signal,
    );
    expect(got).toEqual([]);
  });
});
