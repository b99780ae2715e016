import { parse } from 'sdp-transform';

/**
 * The relay address the edge put in its answer: Parley answers carry exactly
 * one candidate, the relay's, so this is where media must flow.
 */
export function relayFromAnswer(sdp: string): string | undefined {
  let media: ReturnType<typeof parse>['media'];
  try {
    media = parse(sdp).media ?? [];
  } catch {
    return undefined;
  }
  for (const m of media) {
    const c = m.candidates?.find((x) => x.transport.toLowerCase() === 'udp');
    if (c) return c.ip.includes(':') ? `[${c.ip}]:${c.port}` : `${c.ip}:${c.port}`;
  }
  return undefined;
}
