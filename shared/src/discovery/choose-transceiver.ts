import type { TransceiverAnnounce } from '../nats/schemas.js';

export interface ChoiceContext {
  /** Only transceivers of this cluster are eligible. */
  cluster: string;
  /**
   * Sessions this edge has sent to each transceiver since its last
   * announcement. Announcements lag by up to a second; without this, a burst
   * would pile onto whichever transceiver looked emptiest.
   */
  pending?: ReadonlyMap<string, number>;
  /** Transceivers that already failed this request, so a retry goes elsewhere. */
  exclude?: ReadonlySet<string>;
}

export type Choice =
  | { ok: true; transceiver: TransceiverAnnounce }
  | { ok: false; reason: 'no_transceivers' | 'no_capacity' };

/**
 * Picks the least-loaded, non-draining transceiver with room, by fraction of
 * capacity used. Ties go to the lower id so the choice is deterministic.
 */
export function chooseTransceiver(candidates: readonly TransceiverAnnounce[], ctx: ChoiceContext): Choice {
  let best: TransceiverAnnounce | undefined;
  let bestLoad = Number.POSITIVE_INFINITY;
  let sawCluster = false;
  for (const t of candidates) {
    if (t.cluster !== ctx.cluster || ctx.exclude?.has(t.id)) continue;
    sawCluster = true;
    if (t.draining || t.capacity <= 0) continue;
    const used = t.sessions + (ctx.pending?.get(t.id) ?? 0);
    if (used >= t.capacity) continue;
    const load = used / t.capacity;
    if (load < bestLoad || (load === bestLoad && best !== undefined && t.id < best.id)) {
      best = t;
      bestLoad = load;
    }
  }
  if (best) return { ok: true, transceiver: best };
  return { ok: false, reason: sawCluster ? 'no_capacity' : 'no_transceivers' };
}
