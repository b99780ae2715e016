/**
 * werift's `Event` (its observable: every callback a peer connection, its
 * ICE, DTLS, SCTP and RTP objects expose), rewritten to cost less memory.
 * werift's own gives every instance ten arrow functions (execute, subscribe,
 * once, ...) so that they can be passed around unbound; a transceiver
 * session holds ~55 of them, and a heap snapshot at 210 sessions put ~45 KiB
 * of each session's ~166 KiB of heap in those closures, their contexts and
 * the instances' out-of-object properties. Here the methods live on the
 * prototype and an instance gets its own bound copy of one only when it is
 * read (`const { execute } = ev` or `ev.subscribe(...)` both read it), so an
 * event nobody touches is three small objects.
 *
 * Same behaviour as werift 0.25's, including `execute` running the queuing
 * subscribers (`queuingSubscribe`) one after another asynchronously and
 * reporting their failures to `onerror`; it skips that async step when there
 * are none (werift's starts an async function on every call). Installed into
 * werift's CommonJS build by werift-module.ts.
 */

// werift's subscribers take and return anything: the adapter cannot name their types.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Handler = (...args: any[]) => any;

interface Subscriber {
  execute: Handler;
  id: number;
  complete?: () => void;
  error?: (e: unknown) => void;
}

interface Subscription {
  unSubscribe: () => void;
  disposer: (disposer: (() => void)[]) => void;
}

export class LeanEvent {
  event: { stack: Subscriber[]; promiseStack: Subscriber[]; eventId: number } = {
    stack: [],
    promiseStack: [],
    eventId: 0,
  };
  ended = false;
  onended: (() => void) | undefined = undefined;

  // The methods werift reads off an instance, unbound. Declared for the types; their bodies are in
  // METHODS below and reach instances through the lazy accessors installed after the class.
  declare execute: (...args: unknown[]) => void;
  declare complete: () => void;
  declare error: (e: unknown) => void;
  declare allUnsubscribe: () => void;
  declare subscribe: (execute: Handler, complete?: () => void, error?: (e: unknown) => void) => Subscription;
  declare queuingSubscribe: (
    execute: Handler,
    complete?: () => void,
    error?: (e: unknown) => void,
  ) => Subscription;
  declare once: (execute: Handler, complete?: () => void, error?: (e: unknown) => void) => Subscription;
  declare watch: (cb: (...args: unknown[]) => unknown, timeLimit?: number) => Promise<unknown[]>;
  declare asPromise: (timeLimit?: number) => Promise<unknown[]>;
  declare onerror: (e: unknown) => void;

  pipe(e: LeanEvent): void {
    this.subscribe((...args: unknown[]) => {
      e.execute(...args);
    });
  }

  get returnTrigger() {
    const { execute, error, complete } = this;
    return { execute, error, complete };
  }

  get returnListener() {
    const { subscribe, once, asPromise } = this;
    return { subscribe, once, asPromise };
  }

  get length(): number {
    return this.event.stack.length;
  }
}

/** What subscribe() returns: unSubscribe drops subscriber `id` from the plain stack (see queuingSubscribe). */
function subscriptionFor(ev: LeanEvent, id: number): Subscription {
  const unSubscribe = () => {
    ev.event.stack = ev.event.stack.filter((item) => item.id !== id);
  };
  return { unSubscribe, disposer: (d) => d.push(unSubscribe) };
}

const METHODS = {
  execute(this: LeanEvent, ...args: unknown[]): void {
    if (this.ended) return;
    for (const item of this.event.stack) item.execute(...args);
    if (this.event.promiseStack.length === 0) return;
    const queued = this.event.promiseStack;
    (async () => {
      for (const item of queued) await item.execute(...args);
    })().catch((e) => {
      this.onerror(e);
    });
  },
  complete(this: LeanEvent): void {
    if (this.ended) return;
    for (const item of this.event.stack) item.complete?.();
    this.allUnsubscribe();
    this.ended = true;
    if (this.onended) {
      this.onended();
      this.onended = undefined;
    }
  },
  error(this: LeanEvent, e: unknown): void {
    if (this.ended) return;
    for (const item of this.event.stack) item.error?.(e);
    this.allUnsubscribe();
  },
  allUnsubscribe(this: LeanEvent): void {
    // Callable again after complete(): werift's close paths clean up twice.
    if (this.ended) return;
    this.event = { stack: [], promiseStack: [], eventId: 0 };
  },
  subscribe(
    this: LeanEvent,
    execute: Handler,
    complete?: () => void,
    error?: (e: unknown) => void,
  ): Subscription {
    const id = this.event.eventId++;
    this.event.stack.push({ execute, id, complete, error });
    return subscriptionFor(this, id);
  },
  queuingSubscribe(
    this: LeanEvent,
    execute: Handler,
    complete?: () => void,
    error?: (e: unknown) => void,
  ): Subscription {
    if (this.ended) throw new Error('event completed');
    const id = this.event.eventId++;
    this.event.promiseStack.push({ execute, id, complete, error });
    // As werift's: unsubscribing filters the plain stack, so a queuing subscriber stays (werift relies on none
    // of them going away before complete()).
    return subscriptionFor(this, id);
  },
  once(this: LeanEvent, execute: Handler, complete?: () => void, error?: (e: unknown) => void): Subscription {
    const off = this.subscribe(
      (...args: unknown[]) => {
        off.unSubscribe();
        execute(...args);
      },
      complete,
      error,
    );
    return off;
  },
  watch(this: LeanEvent, cb: (...args: unknown[]) => unknown, timeLimit?: number): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const timeout = timeLimit && setTimeout(() => reject('Event watch timeout'), timeLimit);
      const { unSubscribe } = this.subscribe((...args: unknown[]) => {
        if (cb(...args)) {
          if (timeout) clearTimeout(timeout);
          unSubscribe();
          resolve(args);
        }
      });
    });
  },
  asPromise(this: LeanEvent, timeLimit?: number): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const timeout = timeLimit && setTimeout(() => reject('Event asPromise timeout'), timeLimit);
      this.once(
        (...args: unknown[]) => {
          if (timeout) clearTimeout(timeout);
          resolve(args);
        },
        () => {
          if (timeout) clearTimeout(timeout);
          resolve([]);
        },
        (err) => {
          if (timeout) clearTimeout(timeout);
          reject(err);
        },
      );
    });
  },
};

// Reading one of these on an instance binds it to the instance once and keeps that copy as an own,
// writable property (werift passes them around unbound and may replace them); assigning one does the same.
for (const [name, method] of Object.entries(METHODS)) {
  Object.defineProperty(LeanEvent.prototype, name, {
    configurable: true,
    get(this: LeanEvent) {
      const bound = (method as Handler).bind(this);
      Object.defineProperty(this, name, {
        value: bound,
        writable: true,
        configurable: true,
        enumerable: true,
      });
      return bound;
    },
    set(this: LeanEvent, value: unknown) {
      Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
    },
  });
}

// werift's default onerror swallows the error; an instance that sets its own shadows this one.
Object.defineProperty(LeanEvent.prototype, 'onerror', {
  value: (_e: unknown) => undefined,
  writable: true,
  configurable: true,
});
