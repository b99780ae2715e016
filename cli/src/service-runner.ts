import { flushCompileCache } from 'node:module';
import { ConfigError } from '@parley/shared/config/load-config.js';
import { startExitWatchdog } from '@parley/shared/lifecycle/exit-watchdog.js';
import { bestEffort } from '@parley/shared/lifecycle/with-deadline.js';
import { freeTcpPort } from '@parley/shared/net/free-port.js';
import type { Telemetry } from '@parley/shared/telemetry/telemetry.js';

export interface RunningService {
  /** Shown to the operator and sent to a `parley dev` parent. */
  info: Record<string, unknown>;
  /** Graceful stop (SIGTERM, Ctrl-C). */
  stop(): Promise<void>;
  /** How long stop() may take (default: STOP_BUDGET_MS for the service). */
  stopWithinMs?: number;
  /** telemetry 'after-start': resolves when loading telemetry would stall nothing urgent (bounded). */
  telemetryWhen?: Promise<void>;
  /** telemetry 'after-start': called once the meter provider is registered, to create instruments. */
  onTelemetry?(): void;
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

/** Time each service's own stop() may take after SIGTERM (README, Operations). */
export const STOP_BUDGET_MS: Record<string, number> = { edge: 5_000, relay: 3_000, 'agent-server': 3_000 };
/** Telemetry flush after the service stopped. */
export const TELEMETRY_SHUTDOWN_MS = 1_000;
/** The watchdog fires this long after the JavaScript deadline, should the main thread be stuck. */
const WATCHDOG_SLACK_MS = 2_000;

/** The transceiver drains first: its budget follows PARLEY_DRAIN_TIMEOUT_MS. */
export function stopBudgetMs(name: string, env: NodeJS.ProcessEnv = process.env): number {
  if (name === 'transceiver') {
    const drain = Number(env.PARLEY_DRAIN_TIMEOUT_MS ?? 30_000);
    return (Number.isFinite(drain) && drain >= 0 ? drain : 30_000) + 5_000;
  }
  return STOP_BUDGET_MS[name] ?? 5_000;
}

/**
 * Runs one production process: telemetry first (so instruments exist before
 * services create them), then the service, then signal handling.
 *
 * Shutdown is bounded in every state. A signal while starting exits at once
 * (nothing is serving yet, and start may be stuck on an unreachable NATS). A
 * signal while serving runs stop() and the telemetry flush, each under its own
 * time limit, inside an overall deadline kept by a timer and, in case the main
 * thread itself is stuck, by a watchdog thread. A second signal exits at once.
 * A `parley dev` parent that goes away (IPC disconnect) counts as a signal.
 */
export interface RunServiceOptions {
  /** false: the service makes no spans; telemetry is metrics only (see TelemetryOptions.traces). */
  traces?: boolean;
  /**
   * 'after-start' (needs traces: false): the service starts (and serves)
   * first; telemetry loads once its telemetryWhen resolves (at most
   * TELEMETRY_AFTER_START_MAX_WAIT_MS), in steps, onTelemetry() then
   * creates its instruments, and only then is it reported ready. For the relay, whose calls are silent until it
   * forwards: loading the metrics SDK first cost it ~0.2 s of every restart.
   * A metrics port that cannot be bound still exits 2, only later.
   */
  telemetry?: 'before-start' | 'after-start';
}

/** The longest a service started before its telemetry waits for telemetryWhen. */
export const TELEMETRY_AFTER_START_MAX_WAIT_MS = 3_000;

export async function runService(
  name: string,
  metricsPort: number | undefined,
  start: () => Promise<RunningService>,
  opts: RunServiceOptions = {},
): Promise<void> {
  let phase: 'starting' | 'serving' | 'stopping' = 'starting';
  let service: RunningService | undefined;
  let telemetry: Telemetry | undefined;
  const say = (line: string) => process.stderr.write(`parley ${name}: ${line}\n`);
  // A log pipe whose reader is gone (a dead `parley dev`) must neither crash nor hold the process.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const watchdog = startExitWatchdog();

  const stop = async (why: string) => {
    if (phase === 'stopping') {
      // The parent going away mid-stop (its IPC closing) is no reason to cut the stop short.
      if (why === 'parent gone') return;
      say(`second ${why}: exiting now`);
      watchdog.arm(WATCHDOG_SLACK_MS);
      process.exit(1);
    }
    if (phase === 'starting') {
      say(`${why} while starting: exiting now`);
      watchdog.arm(WATCHDOG_SLACK_MS);
      process.exit(143);
    }
    phase = 'stopping';
    const budget = service?.stopWithinMs ?? stopBudgetMs(name);
    const total = budget + TELEMETRY_SHUTDOWN_MS;
    watchdog.arm(total + WATCHDOG_SLACK_MS);
    const hard = setTimeout(() => {
      say(`stop took longer than ${total} ms: exiting`);
      process.exit(1);
    }, total);
    let clean = true;
    const failed = (err: unknown) => {
      clean = false;
      say(`${(err as Error).message ?? String(err)}`);
    };
    say(`${why}: stopping (within ${total} ms)`);
    if (service) await bestEffort('service stop', budget, () => (service as RunningService).stop(), failed);
    if (telemetry)
      await bestEffort('telemetry shutdown', TELEMETRY_SHUTDOWN_MS, telemetry.shutdown(), failed);
    clearTimeout(hard);
    // Still armed: 'exit' handlers (log flushes) run after this and must not hang either.
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Under `parley dev` a terminal's Ctrl-C reaches the whole process group; the parent stops its
  // children in order (edge first, NATS last), so a child acting on it too would only race that
  // and print "second SIGTERM" when the parent's own stop arrives.
  process.on('SIGINT', () => (process.send ? undefined : void stop('SIGINT')));
  // A dev parent that dies must not leave orphans holding ports.
  process.on('disconnect', () => void stop('parent gone'));
  // A promise that loses the shutdown race (a NATS request cut by close) is
  // expected then; any other unhandled rejection is a bug and still fatal.
  process.on('unhandledRejection', (reason) => {
    const text = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
    if (phase === 'stopping') {
      say(`ignored during shutdown: ${text}`);
      return;
    }
    say(`unhandled rejection: ${text}`);
    watchdog.arm(WATCHDOG_SLACK_MS);
    process.exit(1);
  });

  const failed = (err: unknown): never => {
    const msg =
      err instanceof ConfigError ? err.message : `${name} failed to start: ${(err as Error).message}`;
    process.stderr.write(`${msg}\n`);
    watchdog.arm(WATCHDOG_SLACK_MS);
    process.exit(2);
  };
  const late = opts.telemetry === 'after-start' && opts.traces === false;
  const telemetryOptions = {
    serviceName: `parley-${name}`,
    metricsPort,
    ...(opts.traces === false && { traces: false }),
  };
  let metricsUrl: string | undefined;
  try {
    if (late) {
      // The port is chosen now so that the ready message can name the URL it will serve on.
      if (metricsPort === 0) telemetryOptions.metricsPort = await freeTcpPort('0.0.0.0');
      if (telemetryOptions.metricsPort !== undefined)
        metricsUrl = `http://127.0.0.1:${telemetryOptions.metricsPort}/metrics`;
    } else {
      // Imported here, not at the top: the SDK's modules cost ~0.4 s of loading, which commands
      // that serve nothing (call, token, --help) should not pay.
      const { startTelemetry } = await import('@parley/shared/telemetry/telemetry.js');
      telemetry = await startTelemetry(telemetryOptions);
      metricsUrl = telemetry.metricsUrl;
    }
    service = await start();
  } catch (err) {
    failed(err);
    return;
  }
  phase = 'serving';
  // Node writes the compile cache (main.ts) at exit, which a SIGKILLed or OOM-killed process never
  // reaches: write it now that everything start-up needs is loaded, for the next start.
  flushCompileCache();
  const info = { ...service.info, ...(metricsUrl ? { metrics: metricsUrl } : {}) };
  const announce = (): void => {
    if (process.send) {
      // The parent may be gone already ("disconnect" then stops us): a failed send is no crash.
      process.send(
        { type: 'ready', service: name, info } satisfies ReadyMessage,
        undefined,
        {},
        () => undefined,
      );
    } else process.stderr.write(`parley ${name} ready ${JSON.stringify(info)}\n`);
  };
  if (!late) {
    announce();
    return;
  }
  // Serving already; "ready" still means metrics are served too (parley dev, probes and tests scrape them).
  const s = service;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    s.telemetryWhen?.catch(() => undefined),
    new Promise<void>((r) => {
      timer = setTimeout(r, TELEMETRY_AFTER_START_MAX_WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  if (phase !== 'serving') return;
  try {
    const { loadTelemetryInSteps } = await import('@parley/shared/telemetry/preload.js');
    const { startTelemetry } = await loadTelemetryInSteps();
    if (phase !== 'serving') return;
    telemetry = await startTelemetry(telemetryOptions);
  } catch (err) {
    if (phase === 'serving') failed(err);
    return;
  }
  s.onTelemetry?.();
  flushCompileCache();
  announce();
}
