import pinoPretty from 'pino-pretty';

/**
 * `parley dev` shows its children's output as `[service] line`. The services
 * log pino JSON (what production log pipelines want); a person at a terminal
 * reads pino-pretty's one-line form instead: time, level, message, fields.
 * Lines that are not JSON (nats-server, stack traces) pass through as they are,
 * except nats-server's informational ones. An empty result means: show nothing.
 */
export function devLogFormatter(opts: { color: boolean }): (line: string) => string {
  const pretty = pinoPretty.prettyFactory({
    colorize: opts.color,
    translateTime: 'SYS:HH:MM:ss.l',
    // The service name is already the line's prefix, and pid/hostname say nothing in a local stack.
    ignore: 'pid,hostname,name',
    singleLine: true,
  });
  return (line) => {
    // nats-server's banner is a dozen [INF] lines; its warnings and errors still show.
    if (line.startsWith('[nats] ') && / \[INF\] /.test(line)) return '';
    // Each service announcing the stop that `parley dev` itself asked for says nothing new here.
    if (/^\[[\w-]+\] parley [\w-]+: SIGTERM: stopping \(within \d+ ms\)$/.test(line)) return '';
    const m = /^\[([\w-]+)\] (\{.*\})\s*$/.exec(line);
    if (!m) return `${line}\n`;
    let entry: unknown;
    try {
      entry = JSON.parse(m[2] as string);
    } catch {
      return `${line}\n`;
    }
    if (entry === null || typeof entry !== 'object' || !('level' in entry)) return `${line}\n`;
    const text = pretty(entry);
    return `${(m[1] as string).padEnd(11)} ${text.endsWith('\n') ? text : `${text}\n`}`;
  };
}
