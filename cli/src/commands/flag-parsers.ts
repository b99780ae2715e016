import { InvalidArgumentError } from 'commander';

// Commander calls these with each flag's raw text. An InvalidArgumentError
// becomes "error: option '--ttl <seconds>' argument 'abc' is invalid. <why>"
// and exit status 1, with no stack trace.

/** A whole number in [min, max]. */
export function integerIn(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(v) || v < min || v > max)
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return v;
  };
}

/** A finite number in [min, max]. */
export function numberIn(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max)
      throw new InvalidArgumentError(`Expected a number from ${min} to ${max}.`);
    return v;
  };
}

export const portNumber = integerIn(1, 65_535);

/** Non-empty printable text without whitespace, at most `max` characters (claims, names). */
export function word(max = 256): (raw: string) => string {
  return (raw) => {
    if (raw === '' || raw.length > max || /[\s\p{Cc}]/u.test(raw))
      throw new InvalidArgumentError(`Expected 1 to ${max} characters without spaces.`);
    return raw;
  };
}

/** One of a fixed set of values. */
export function oneOf<T extends string>(...values: T[]): (raw: string) => T {
  return (raw) => {
    if (!(values as string[]).includes(raw))
      throw new InvalidArgumentError(`Expected one of: ${values.join(', ')}.`);
    return raw as T;
  };
}

/** An http(s) URL such as an edge's base URL. */
export function httpUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InvalidArgumentError('Expected an http:// or https:// URL, e.g. http://127.0.0.1:8080.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidArgumentError('Expected an http:// or https:// URL, e.g. http://127.0.0.1:8080.');
  return raw;
}

/** An IPv4 or IPv6 address literal. */
export function ipAddress(raw: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(raw);
  if (v4?.slice(1).every((o) => Number(o) <= 255)) return raw;
  if (raw.includes(':') && /^[0-9a-fA-F:.]+$/.test(raw)) return raw;
  throw new InvalidArgumentError('Expected an IP address, e.g. 0.0.0.0 or 203.0.113.7.');
}
