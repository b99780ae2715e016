import { metrics } from '@opentelemetry/api';
import type { SessionManager } from './session/session-manager.js';

/**
 * Transceiver gauges for Prometheus. `parley_transceiver_sessions` is the
 * scale-out signal the Terraform and Kubernetes autoscalers read.
 */
export function registerTransceiverMetrics(sessions: SessionManager): void {
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
  meter.addBatchObservableCallback(
    (r) => {
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
    [current, capacity, draining, closed, setups, setupsRefused],
  );
}
