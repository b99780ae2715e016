/** A shutdown step that did not finish in its time. Keeps the step's name for the log. */
export class StepTimeoutError extends Error {
  constructor(
    readonly step: string,
    readonly ms: number,
  ) {
    super(`${step} did not finish within ${ms} ms`);
    this.name = 'StepTimeoutError';
  }
}

/**
 * Runs one shutdown step with its own time limit. On time-out the step is left
 * behind (its promise keeps running, its rejection is swallowed so it cannot
 * surface as an unhandled rejection later) and `onTimeout` may cut it short,
 * e.g. close a NATS connection whose drain cannot reach the server.
 */
export async function withDeadline<T>(
  step: string,
  ms: number,
  work: Promise<T> | (() => Promise<T>),
  onTimeout?: () => void,
): Promise<T> {
  const p = typeof work === 'function' ? Promise.resolve().then(work) : work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } finally {
        reject(new StepTimeoutError(step, ms));
      }
    }, ms);
  });
  p.catch(() => undefined);
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Like withDeadline, but never throws: failures and time-outs are reported to `onError`. */
export async function bestEffort(
  step: string,
  ms: number,
  work: Promise<unknown> | (() => Promise<unknown>),
  onError: (err: unknown) => void,
  onTimeout?: () => void,
): Promise<void> {
  try {
    await withDeadline(step, ms, work, onTimeout);
  } catch (err) {
    onError(err);
  }
}
