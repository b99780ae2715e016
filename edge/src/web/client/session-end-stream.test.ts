import { describe, expect, it } from 'vitest';
import {
  LOST_MEDIA_SILENCE_MS,
  noticeEndsCall,
  takeSessionEnded,
  watchSessionEnd,
  watchSessionEndWhileLive,
} from './session-end-stream.js';

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
    expect(
      await watchSessionEnd(
        { fetch: fake },
        'https://edge/s',
        (e) => got.push(e.reason),
        new AbortController().signal,
      ),
    ).toBe('refused');
    expect(got).toEqual([]);
  });

  it('opens the stream again after it drops (a network change), and stops on the end', async () => {
    let calls = 0;
    const fake = (async () => {
      calls++;
      if (calls === 1) throw new TypeError('network changed');
      if (calls === 2) return new Response(streamOf([': hi\n\n']), { status: 200 });
      return new Response(streamOf([EVENT]), { status: 200 });
    }) as unknown as typeof fetch;
    const got: string[] = [];
    const outcome = await watchSessionEndWhileLive(
      { fetch: fake },
      'https://edge/s',
      (e) => got.push(e.reason),
      new AbortController().signal,
      { retryMs: 1, maxTries: 10 },
    );
    expect(outcome).toBe('ended');
    expect(calls).toBe(3);
    expect(got).toEqual(['transceiver_lost']);
  });

  it('gives up after maxTries and never retries once aborted', async () => {
    let calls = 0;
    const fake = (async () => {
      calls++;
      throw new TypeError('offline');
    }) as unknown as typeof fetch;
    const noop = () => undefined;
    const retry = { retryMs: 1, maxTries: 3 };
    expect(
      await watchSessionEndWhileLive({ fetch: fake }, 'u', noop, new AbortController().signal, retry),
    ).toBe('dropped');
    expect(calls).toBe(3);
    const aborted = new AbortController();
    aborted.abort();
    calls = 0;
    await watchSessionEndWhileLive({ fetch: fake }, 'u', noop, aborted.signal, retry);
    expect(calls).toBe(0);
  });
});

describe('noticeEndsCall', () => {
  it("transceiver_lost while the agent's audio still arrives on a connected path: a cut between regions, the call goes on", () => {
    expect(noticeEndsCall('transceiver_lost', { connected: true, silentMs: 40 })).toBe(false);
    expect(noticeEndsCall('transceiver_lost', { connected: true, silentMs: LOST_MEDIA_SILENCE_MS - 1 })).toBe(
      false,
    );
  });

  it('transceiver_lost ends the call once the audio stopped, the path dropped, or no audio ever came', () => {
    expect(noticeEndsCall('transceiver_lost', { connected: true, silentMs: LOST_MEDIA_SILENCE_MS })).toBe(
      true,
    );
    expect(noticeEndsCall('transceiver_lost', { connected: false, silentMs: 20 })).toBe(true);
    expect(noticeEndsCall('transceiver_lost', { connected: true, silentMs: undefined })).toBe(true);
  });

  it('any reason the transceiver gave itself ends the call at once, audio or not', () => {
    for (const reason of ['deleted', 'shutdown', 'consent_lost', 'expired'])
      expect(noticeEndsCall(reason, { connected: true, silentMs: 0 })).toBe(true);
  });
});
