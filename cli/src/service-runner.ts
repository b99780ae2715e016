import { ConfigError } from '@parley/shared/config/load-config.js';
import { startTelemetry } from '@parley/shared/telemetry/telemetry.js';

export interface RunningService {
  /** Shown to the operator and sent to a `parley dev` parent. */
  info: Record<string, unknown>;
  /** Graceful stop (SIGTERM, Ctrl-C). */
  stop(): Promise<void>;
}

/** Loads configuration, or prints every problem and exits 2 (a usage error, not a crash). */
export function configOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.exit(2);
  }
}

/** What a child tells `parley dev` over IPC once it is serving. */
export interface ReadyMessage {
  type: 'ready';
  service: string;
  info: Record<string, unknown>;
}

/**
 * Runs one production process: telemetry first (so instruments exist before
 * services create them), then the service, then signal handling. A second
 * signal forces exit, for operators who do not want to wait for a drain.
 */
export async function runService(
  name: string,
  metricsPort: number | undefined,
  start: () => Promise<RunningService>,
): Promise<void> {
  let telemetry: Awaited<ReturnType<typeof startTelemetry>>;
  let service: RunningService;
  try {
    telemetry = await startTelemetry({ serviceName: `parley-${name}`, metricsPort });
    service = await start();
  } catch (err) {
    const msg =
      err instanceof ConfigError ? err.message : `${name} failed to start: ${(err as Error).message}`;
    process.stderr.write(`${msg}\n`);
    process.exit(2);
  }
  const info = { ...service.info, ...(telemetry.metricsUrl ? { metrics: telemetry.metricsUrl } : {}) };
  if (process.send) process.send({ type: 'ready', service: name, info } satisfies ReadyMessage);
  else process.stderr.write(`parley ${name} ready ${JSON.stringify(info)}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      process.stderr.write(`second ${signal}: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    try {
      await service.stop();
      await telemetry.shutdown();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A dev parent that dies must not leave orphans holding ports.
  process.on('disconnect', () => void stop('disconnect'));
}
