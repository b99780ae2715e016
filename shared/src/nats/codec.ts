import type { z } from 'zod';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Decodes and validates; throws a readable error so callers can count and drop. */
export function decodeJson<T extends z.ZodType>(schema: T, data: Uint8Array): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    throw new Error('message is not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`message does not match schema: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
