import { describe, expect, it } from 'vitest';
import { Event as WeriftEvent } from 'werift';
import { LeanEvent } from './lean-event.js';
import { werift } from './werift-module.js';

// Differential: every scenario runs against werift's own Event (its ES module build, untouched) and
// LeanEvent, and must leave the same trace.
type AnyEvent = {
  execute(...a: unknown[]): void;
  complete(): void;
  error(e: unknown): void;
  allUnsubscribe(): void;
  subscribe(
    fn: (...a: unknown[]) => unknown,
    c?: () => void,
    e?: (x: unknown) => void,
  ): { unSubscribe(): void };
  queuingSubscribe(fn: (...a: unknown[]) => unknown): { unSubscribe(): void };
  once(fn: (...a: unknown[]) => unknown, c?: () => void, e?: (x: unknown) => void): { unSubscribe(): void };
  watch(cb: (...a: unknown[]) => unknown, t?: number): Promise<unknown[]>;
  asPromise(t?: number): Promise<unknown[]>;
  pipe(e: AnyEvent): void;
  onended?: () => void;
  onerror: (e: unknown) => void;
  ended: boolean;
  length: number;
  returnTrigger: { execute(...a: unknown[]): void };
  returnListener: { subscribe(fn: (...a: unknown[]) => unknown): unknown };
};
const both = (): [[string, () => AnyEvent], [string, () => AnyEvent]] => [
  ['werift', () => new WeriftEvent() as unknown as AnyEvent],
  ['lean', () => new LeanEvent() as unknown as AnyEvent],
];
const tick = () => new Promise((r) => setTimeout(r, 0));

async function traceOf(
  make: () => AnyEvent,
  scenario: (ev: () => AnyEvent, log: unknown[]) => Promise<void>,
) {
  const log: unknown[] = [];
  await scenario(make, log);
  return log;
}

describe('LeanEvent behaves as werift’s Event', () => {
  const scenarios: Record<string, (ev: () => AnyEvent, log: unknown[]) => Promise<void>> = {
    'subscribe, execute unbound, unsubscribe, length': async (ev, log) => {
      const e = ev();
      const a = e.subscribe((...x) => log.push(['a', ...x]));
      e.subscribe((...x) => log.push(['b', ...x]));
      const { execute } = e;
      execute(1, 2);
      log.push(['length', e.length]);
      a.unSubscribe();
      e.execute(3);
      log.push(['length', e.length]);
    },
    'once fires once; complete calls complete handlers, onended, then ignores execute': async (ev, log) => {
      const e = ev();
      e.once((x) => log.push(['once', x]));
      e.subscribe(
        (x) => log.push(['sub', x]),
        () => log.push('completed'),
      );
      e.onended = () => log.push('ended');
      e.execute(1);
      e.execute(2);
      e.complete();
      e.complete();
      e.execute(3);
      log.push(['ended?', e.ended, e.length]);
    },
    'error reaches error handlers and unsubscribes everyone': async (ev, log) => {
      const e = ev();
      e.subscribe(
        () => log.push('x'),
        undefined,
        (err) => log.push(['err', err]),
      );
      e.error('boom');
      e.execute(1);
      log.push(['length', e.length]);
    },
    'queuing subscribers run in order, asynchronously; a failure goes to onerror': async (ev, log) => {
      const e = ev();
      e.onerror = (err) => log.push(['onerror', String(err)]);
      e.queuingSubscribe(async (x) => {
        await tick();
        log.push(['q1', x]);
      });
      e.queuingSubscribe(async (x) => {
        log.push(['q2', x]);
        throw new Error('q2 failed');
      });
      e.subscribe((x) => log.push(['sync', x]));
      e.execute(7);
      log.push('after execute');
      await tick();
      await tick();
    },
    'asPromise resolves with the arguments, or [] on complete; watch resolves when the callback says so':
      async (ev, log) => {
        const e = ev();
        const p = e.asPromise();
        e.execute('a', 'b');
        log.push(['asPromise', await p]);
        const w = e.watch((x) => x === 3);
        e.execute(1);
        e.execute(3);
        log.push(['watch', await w]);
        const q = e.asPromise();
        e.complete();
        log.push(['after complete', await q]);
      },
    'asPromise rejects after its time limit': async (ev, log) => {
      const e = ev();
      await e.asPromise(5).catch((err) => log.push(['rejected', err]));
    },
    'pipe, returnTrigger and returnListener pass events along': async (ev, log) => {
      const a = ev();
      const b = ev();
      a.pipe(b);
      b.returnListener.subscribe((x) => log.push(['b', x]));
      a.returnTrigger.execute(9);
    },
    'allUnsubscribe drops subscribers, and is harmless after complete': async (ev, log) => {
      const e = ev();
      e.subscribe(() => log.push('x'));
      e.allUnsubscribe();
      e.execute();
      e.complete();
      e.allUnsubscribe();
      log.push(['length', e.length, e.ended]);
    },
  };

  for (const [name, scenario] of Object.entries(scenarios)) {
    it(name, async () => {
      const [[, original], [, lean]] = both();
      const expected = await traceOf(original, scenario);
      expect(expected.length).toBeGreaterThan(0);
      expect(await traceOf(lean, scenario)).toEqual(expected);
    });
  }

  it('binds a method once per instance, only when read, and keeps a replacement', () => {
    const e = new LeanEvent();
    expect(Object.keys(e)).toEqual(['event', 'ended', 'onended']);
    const { execute } = e;
    expect(e.execute).toBe(execute);
    expect(Object.keys(e)).toContain('execute');
    expect(new LeanEvent().execute).not.toBe(execute);
    const replacement = () => undefined;
    e.subscribe = replacement as unknown as LeanEvent['subscribe'];
    expect(e.subscribe).toBe(replacement);
  });

  it('is the Event werift’s CommonJS build constructs (werift-module.ts installs it)', () => {
    const pc = new werift.RTCPeerConnection();
    expect(pc.onDataChannel).toBeInstanceOf(LeanEvent);
    expect(pc.iceConnectionStateChange).toBeInstanceOf(LeanEvent);
    void pc.close();
  });
});
