import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON logs on stdout, one logger per process, tagged with the process name. */
export function createLogger(name: string, level: string = process.env.PARLEY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
