/**
 * Why the relay dropped a datagram. A fixed list so counters are allocated
 * once and exporters can emit every reason, including the zeros.
 */
export const DROP_REASONS = [
  // From unknown sources (no flow yet): only a good Binding Request opens a flow.
  'no_flow_dtls',
  'no_flow_rtp',
  'no_flow_unknown',
  'stun_malformed',
  'stun_not_binding_request',
  'stun_bad_fingerprint',
  'stun_no_username',
  'username_malformed',
  'token_malformed',
  'token_version',
  'token_unknown_key',
  'token_bad_signature',
  'token_expired',
  // The session ended (its transceiver published a revocation).
  'token_revoked',
  'route_unknown',
  'route_bad_address',
  'rate_limited',
  'flow_table_full',
  // Per-session and per-source bounds: one flow refused, never the relay.
  'token_flow_limit',
  'ip_flow_limit',
  // The upstream port for a new flow could not be bound (EMFILE, no ports): that flow only.
  'upstream_bind_failed',
  // A Binding Request on a known flow naming another token that did not verify.
  'reroute_rejected',
  // On a flow's upstream socket: only the transceiver the token named may answer.
  'upstream_foreign_source',
  // Native I/O: longer than its largest datagram (2048 bytes; WebRTC stays under the path MTU).
  'datagram_too_large',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface RelayCountersSnapshot {
  /** Client -> transceiver. */
  packetsUp: number;
  bytesUp: number;
  /** Transceiver -> client. */
  packetsDown: number;
  bytesDown: number;
  flowsOpened: number;
  flowsClosed: number;
  flowsRerouted: number;
  flowsRevoked: number;
  flowsEvicted: number;
  flowsViaToken: number;
  /** Gauge: flowsOpened - flowsClosed. */
  flowsOpen: number;
  /** Socket 'error' events and failed upstream binds. */
  socketErrors: number;
  /** send() completions with an error (ENOBUFS, EPERM, ...); the datagram is lost. */
  sendErrors: number;
  drops: Record<DropReason, number>;
  droppedPackets: number;
}

/**
 * Plain integer counters, bumped on the hot path with nothing but `++` and
 * `+=`. Metrics exporters read snapshot() on their own schedule.
 */
export class RelayCounters {
  packetsUp = 0;
  bytesUp = 0;
  packetsDown = 0;
  bytesDown = 0;
  flowsOpened = 0;
  flowsClosed = 0;
  /** Flows moved to another token's transceiver by a Binding Request naming a new token. */
  flowsRerouted = 0;
  /** Flows closed because their session ended (revocation). */
  flowsRevoked = 0;
  /** Flows closed to make room for a newer flow of the same token. */
  flowsEvicted = 0;
  /** Flows opened to the address signed in the token (no discovery entry). */
  flowsViaToken = 0;
  socketErrors = 0;
  sendErrors = 0;
  readonly drops: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
    DropReason,
    number
  >;

  drop(reason: DropReason): void {
    this.drops[reason]++;
  }

  get flowsOpen(): number {
    return this.flowsOpened - this.flowsClosed;
  }

  snapshot(): RelayCountersSnapshot {
    let droppedPackets = 0;
    for (const r of DROP_REASONS) droppedPackets += this.drops[r];
    return {
      packetsUp: this.packetsUp,
      bytesUp: this.bytesUp,
      packetsDown: this.packetsDown,
      bytesDown: this.bytesDown,
      flowsOpened: this.flowsOpened,
      flowsClosed: this.flowsClosed,
      flowsRerouted: this.flowsRerouted,
      flowsRevoked: this.flowsRevoked,
      flowsEvicted: this.flowsEvicted,
      flowsViaToken: this.flowsViaToken,
      flowsOpen: this.flowsOpen,
      socketErrors: this.socketErrors,
      sendErrors: this.sendErrors,
      drops: { ...this.drops },
      droppedPackets,
    };
  }
}
