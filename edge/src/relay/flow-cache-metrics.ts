import { metrics } from '@opentelemetry/api';
import type { FlowCache, FlowCacheCounters } from './flow-cache.js';

/**
 * The flow cache's plain counters as one OpenTelemetry observable counter,
 * `parley_relay_flow_cache{event}` (lookups, hits, misses, rejected,
 * recovered, write errors, ...), read when scraped: never on the packet path.
 */
export function registerFlowCacheMetrics(cache: FlowCache): void {
  const meter = metrics.getMeter('parley.relay');
  const events = meter.createObservableCounter('parley_relay_flow_cache', {
    description:
      'Shared flow cache: writes, write_errors, touches (unacknowledged refreshes of live flows), touch_errors, writes_dropped, lookups, hits, misses, lookup_errors, lookup_pending, negative_hits, lookup_overflow, lookup_rate_limited, rejected (cached token failed verification), recovered (flows rebuilt), superseded (a consent check rebuilt it first)',
  });
  const names: Record<keyof FlowCacheCounters, string> = {
    writes: 'writes',
    writeErrors: 'write_errors',
    touches: 'touches',
    touchErrors: 'touch_errors',
    writesDropped: 'writes_dropped',
    lookups: 'lookups',
    hits: 'hits',
    misses: 'misses',
    lookupErrors: 'lookup_errors',
    lookupPending: 'lookup_pending',
    negativeHits: 'negative_hits',
    lookupOverflow: 'lookup_overflow',
    lookupRateLimited: 'lookup_rate_limited',
    rejected: 'rejected',
    recovered: 'recovered',
    superseded: 'superseded',
  };
  meter.addBatchObservableCallback(
    (r) => {
      for (const [key, event] of Object.entries(names))
        r.observe(events, cache.counters[key as keyof FlowCacheCounters], { event });
    },
    [events],
  );
}
