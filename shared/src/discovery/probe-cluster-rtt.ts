import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log.js';
import { encodeJson } from '../nats/codec.js';
import { sessionStateSubject } from '../nats/subjects.js';
import type { ClusterRttTable } from './cluster-rtt.js';
import type { TransceiverTable } from './transceiver-table.js';

export interface ClusterRttProbeOptions {
  nc: NatsConnection;
  table: TransceiverTable;
  rtt: ClusterRttTable;
  clusters: readonly string[];
  log: Logger;
  intervalMs?: number;
  /** A round trip slower than this counts as no sample (the fallback RTT applies once samples age out). */
  timeoutMs?: number;
}

/** A session id no transceiver holds: the reply is an immediate `not_found`. */
const PROBE_SESSION = 'rtt-probe';

/**
 * Measures the RTT from this edge to each core cluster over the mesh: a NATS
 * request to one live transceiver of the cluster (its session-state subject,
 * which every transceiver answers at once), timed end to end. The path is the
 * one offers take (leaf node, gateways, the cluster's NATS servers), so the
 * figure is the distance that matters for setup, not a geographic guess.
 */
export function probeClusterRtt(opts: ClusterRttProbeOptions): { stop(): void } {
  const intervalMs = opts.intervalMs ?? 2_000;
  const timeoutMs = opts.timeoutMs ?? 1_000;
  let turn = 0;
  let stopped = false;
  const once = async (): Promise<void> => {
    turn++;
    const live = opts.table.live();
    await Promise.all(
      opts.clusters.map(async (cluster) => {
        const members = live.filter((t) => t.cluster === cluster).sort((a, b) => (a.id < b.id ? -1 : 1));
        // Rotate through members, so one slow transceiver does not stand for its cluster.
        const target = members[turn % Math.max(1, members.length)];
        if (!target) return;
        const t0 = performance.now();
        try {
          await opts.nc.request(sessionStateSubject(target.id), encodeJson({ sessionId: PROBE_SESSION }), {
            timeout: timeoutMs,
          });
          if (!stopped) opts.rtt.record(cluster, performance.now() - t0);
        } catch (e) {
          opts.log.debug({ cluster, transceiver: target.id, err: (e as Error).message }, 'rtt probe failed');
        }
      }),
    );
  };
  void once();
  const timer = setInterval(() => void once(), intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
