import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson } from '@parley/shared/nats/codec.js';
import type { TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT } from '@parley/shared/nats/subjects.js';

/**
 * Publishes this transceiver's state every `intervalMs`, at once when asked
 * on DISCOVER_SUBJECT, and soon after its load changes (coalesced, so a burst
 * of sessions costs one message, not one per session).
 *
 * Relays route on `address` and `port` of the snapshot: the one ICE UDP port
 * all sessions share (PARLEY_ICE_PORT), since routing tokens carry no port.
 */
export class Announcer {
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private sub?: { unsubscribe(): void };

  constructor(
    private readonly nc: NatsConnection,
    private readonly snapshot: () => TransceiverAnnounce,
    private readonly intervalMs = 1_000,
    private readonly coalesceMs = 50,
  ) {}

  start(): void {
    this.publish();
    this.timer = setInterval(() => this.publish(), this.intervalMs);
    this.timer.unref();
    this.sub = this.nc.subscribe(DISCOVER_SUBJECT, { callback: () => this.publish() });
  }

  /** Load changed: announce within `coalesceMs`. */
  nudge(): void {
    if (this.soon || !this.timer) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.publish();
    }, this.coalesceMs);
    this.soon.unref();
  }

  publish(): void {
    if (this.nc.isClosed()) return;
    this.nc.publish(ANNOUNCE_SUBJECT, encodeJson(this.snapshot()));
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = undefined;
    this.sub?.unsubscribe();
  }
}
