import { metrics } from '@opentelemetry/api';
import { DROP_REASONS, type RelayCounters } from './relay-counters.js';

/**
 * Exposes the relay's plain counters as OpenTelemetry observable instruments.
 * The exporter reads them when scraped; the packet path never calls OTel.
 */
export function registerRelayMetrics(counters: RelayCounters, flows: () => number): void {
  const meter = metrics.getMeter('parley.relay');
  const packets = meter.createObservableCounter('parley_relay_packets', {
    description: 'Datagrams forwarded, by direction (up = client to transceiver)',
  });
  const bytes = meter.createObservableCounter('parley_relay_bytes', {
    description: 'Bytes forwarded, by direction',
    unit: 'By',
  });
  const drops = meter.createObservableCounter('parley_relay_drops', {
    description: 'Datagrams dropped, by reason',
  });
  const flowsOpened = meter.createObservableCounter('parley_relay_flows_opened', {
    description: 'Flows created from a verified routing token',
  });
  const errors = meter.createObservableCounter('parley_relay_errors', {
    description: 'Socket and send errors',
  });
  const open = meter.createObservableGauge('parley_relay_flows_open', {
    description: 'Flows in the table now',
  });
  meter.addBatchObservableCallback(
    (r) => {
      const s = counters.snapshot();
      r.observe(packets, s.packetsUp, { direction: 'up' });
      r.observe(packets, s.packetsDown, { direction: 'down' });
      r.observe(bytes, s.bytesUp, { direction: 'up' });
      r.observe(bytes, s.bytesDown, { direction: 'down' });
      for (const reason of DROP_REASONS) r.observe(drops, s.drops[reason], { reason });
      r.observe(flowsOpened, s.flowsOpened);
      r.observe(errors, s.socketErrors, { kind: 'socket' });
      r.observe(errors, s.sendErrors, { kind: 'send' });
      r.observe(open, flows());
    },
    [packets, bytes, drops, flowsOpened, errors, open],
  );
}
