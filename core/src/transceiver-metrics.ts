import { type Histogram, metrics } from '@opentelemetry/api';
import { srtpTotals } from './rtp/media-transport.js';
import type { SessionManager } from './session/session-manager.js';
import type { UdpMux } from './transport/udp-mux.js';

/**
 * Transceiver gauges for Prometheus. `parley_transceiver_sessions` is the
 * scale-out signal the Terraform and Kubernetes autoscalers read.
 */
export function registerTransceiverMetrics(sessions: SessionManager, mux: UdpMux): void {
  const meter = metrics.getMeter('parley.transceiver');
  const current = meter.createObservableGauge('parley_transceiver_sessions', {
    description: 'Sessions open on this transceiver',
  });
  const capacity = meter.createObservableGauge('parley_transceiver_capacity', {
    description: 'Most sessions this transceiver admits',
  });
  const draining = meter.createObservableGauge('parley_transceiver_draining', {
    description: '1 while the transceiver drains before shutdown',
  });
  const closed = meter.createObservableCounter('parley_transceiver_sessions_closed', {
    description: 'Sessions ended, by reason',
  });
  const setups = meter.createObservableGauge('parley_transceiver_setups', {
    description: 'Session setups by admission state: running (offer to DTLS up) or queued for a slot',
  });
  const setupsRefused = meter.createObservableCounter('parley_transceiver_setups_refused', {
    description: 'Offers refused by setup admission, by reason (queue_full, wait_timeout)',
  });
  const datagrams = meter.createObservableCounter('parley_transceiver_datagrams', {
    description: "Datagrams on the transceiver's one UDP socket, by direction",
  });
  const socketDrops = meter.createObservableCounter('parley_transceiver_socket_drops', {
    description:
      'Datagrams dropped at the socket: unknown_source (no verified check bound the address), rejected_check (a check for a live session failed), rejected_srtp (SRTP from an unknown address naming a live session did not authenticate), send_error',
  });
  const srtpMoves = meter.createObservableCounter('parley_transceiver_srtp_address_moves', {
    description:
      'Sessions moved to a new relay address on a packet that authenticated with their SRTP keys (no STUN)',
  });
  const srtp = meter.createObservableCounter('parley_transceiver_srtp_packets', {
    description: "Packets through Parley's own SRTP path, by kind (rtp, rtcp) and direction",
  });
  const srtpDropped = meter.createObservableCounter('parley_transceiver_srtp_dropped', {
    description: 'SRTP/SRTCP packets that failed authentication, replay or framing checks',
  });
  meter.addBatchObservableCallback(
    (r) => {
      const m = mux.counters;
      r.observe(datagrams, m.datagramsIn, { direction: 'in' });
      r.observe(datagrams, m.datagramsOut, { direction: 'out' });
      r.observe(socketDrops, m.unknownSource, { reason: 'unknown_source' });
      r.observe(socketDrops, m.rejectedAdmission, { reason: 'rejected_check' });
      r.observe(socketDrops, m.rejectedSrtp, { reason: 'rejected_srtp' });
      r.observe(srtpMoves, m.movedBySrtp);
      r.observe(socketDrops, m.sendErrors, { reason: 'send_error' });
      r.observe(srtp, srtpTotals.rtpIn, { kind: 'rtp', direction: 'in' });
      r.observe(srtp, srtpTotals.rtpOut, { kind: 'rtp', direction: 'out' });
      r.observe(srtp, srtpTotals.rtcpIn, { kind: 'rtcp', direction: 'in' });
      r.observe(srtp, srtpTotals.rtcpOut, { kind: 'rtcp', direction: 'out' });
      r.observe(srtpDropped, srtpTotals.dropped);
      const a = sessions.admission.stats();
      r.observe(setups, a.running, { state: 'running' });
      r.observe(setups, a.queued, { state: 'queued' });
      r.observe(setupsRefused, a.refusedQueueFull, { reason: 'queue_full' });
      r.observe(setupsRefused, a.refusedWaitTimeout, { reason: 'wait_timeout' });
      r.observe(current, sessions.count);
      r.observe(capacity, sessions.capacity);
      r.observe(draining, sessions.draining ? 1 : 0);
      for (const [reason, n] of sessions.closedByReason) r.observe(closed, n, { reason });
    },
    [
      current,
      capacity,
      draining,
      closed,
      setups,
      setupsRefused,
      datagrams,
      socketDrops,
      srtp,
      srtpDropped,
      srtpMoves,
    ],
  );
}

/** Seconds, for setup: 10 ms to 10 s. */
const SETUP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10];
let setupHistogram: Histogram | undefined;

/**
 * A session's setup inside the transceiver, into `parley_transceiver_setup_seconds{stage}`:
 * `connected` is offer received to DTLS up (ICE, DTLS, the agent's start, any admission wait).
 * Once per session; a no-op until an OpenTelemetry meter provider is installed.
 */
export function recordSessionSetup(stage: 'connected', seconds: number): void {
  setupHistogram ??= metrics
    .getMeter('parley.transceiver')
    .createHistogram('parley_transceiver_setup_seconds', {
      description: 'Session setup inside the transceiver by stage: connected = offer received to DTLS up',
      unit: 's',
      advice: { explicitBucketBoundaries: SETUP_BUCKETS },
    });
  setupHistogram.record(seconds, { stage });
}
