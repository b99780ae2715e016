import { headers, type MsgHdrs, type NatsConnection, TimeoutError } from '@nats-io/transport-node';
import type { ClusterRttTable } from '@parley/shared/discovery/cluster-rtt.js';
import { newSessionId, routeIdOfSession } from '@parley/shared/discovery/session-id.js';
import type { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import type { Logger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import {
  CloseReply,
  type CloseRequest,
  IceRestartReply,
  type IceRestartRequest,
  OfferReply,
  type OfferRequest,
  type TransceiverAnnounce,
} from '@parley/shared/nats/schemas.js';
import { closeSubject, iceRestartSubject, offerSubject } from '@parley/shared/nats/subjects.js';
import type { z } from 'zod';
import { type ClusterConfig, placeSession, resolveGeoHint } from './placement.js';
import type {
  CloseResult,
  CreateResult,
  CreateSessionRequest,
  RestartIceResult,
  SessionBroker,
} from './session-broker.js';

export interface NatsSessionBrokerOptions {
  nc: NatsConnection;
  table: TransceiverTable;
  /** This edge's home cluster; the only one when `clusters` is not given. */
  cluster: string;
  /**
   * Every core cluster this edge may place sessions in, with the configured
   * RTT from this edge as the fallback for the measured one. Placement takes
   * the nearest healthy cluster with room, then the next (placement.ts).
   */
  clusters?: readonly ClusterConfig[];
  /** RTTs measured over the mesh (probeClusterRtt); configured ones are used without it. */
  rtt?: ClusterRttTable;
  /** Request geo hint value → cluster (PARLEY_GEO_HINTS). */
  geoHints?: ReadonlyMap<string, string>;
  /**
   * Whether NATS is connected now. While it is not, offers fail at once with
   * `unavailable` instead of each waiting out its timeout in the client's
   * reconnect buffer. Default: the connection is not closed.
   */
  isConnected?: () => boolean;
  /** This region's relay, the only ICE candidate answers may carry. */
  relay: { ip: string; port: number };
  /** The relay's ICE-TCP address, answered as a second, lower-priority candidate. */
  relayTcp?: { ip: string; port: number };
  log: Logger;
  /** Per NATS request. */
  timeoutMs?: number;
  /** Adds trace context (or anything else) to outgoing request headers. */
  injectHeaders?: (h: MsgHdrs) => void;
  /** Told of every session placed, so the edge can tell its client if the transceiver is lost (session-events.ts). */
  onPlaced?: (p: { sessionId: string; transceiverId: string; cluster: string; answer: string }) => void;
}

export const DEFAULT_OFFER_TIMEOUT_MS = 5_000;

/** Transceiver messages forwarded to HTTP clients are cut to this length. */
const MAX_DETAIL = 200;

/**
 * Attempts per session: two per cluster (one retry routes around a dead or
 * full transceiver whose announcement lagged), at most four in all, so a
 * dead nearest cluster costs two fast no-responder replies before the next
 * cluster answers. After a timeout only one more attempt is made, so a
 * client never waits for a chain of timeouts.
 */
const MAX_ATTEMPTS = 4;
const ATTEMPTS_PER_CLUSTER = 2;

/** A failure worth one more try on another transceiver. */
interface Retryable {
  ok: false;
  code: 'retry';
  cause: 'timeout' | 'unavailable' | 'no_capacity' | 'draining';
  detail: string;
}
type Attempt = CreateResult | Retryable;

/**
 * Sessions this edge placed on one transceiver that its announcements may
 * not count yet, so a burst does not pile onto whichever transceiver looked
 * emptiest a second ago.
 *
 * `inFlight` requests always count. `placed` counts successful replies
 * received while `basis` was the newest announcement; it is cleared as soon
 * as a newer announcement is seen. That is exact, not a guess: a transceiver
 * counts a session before replying, and NATS keeps one publisher's messages
 * in order, so any announcement received after the reply includes it. The
 * only error is counting an in-flight request twice for up to one
 * announcement interval, which spreads load slightly but never overfills.
 */
interface PendingEntry {
  basis: TransceiverAnnounce;
  inFlight: number;
  placed: number;
}

/**
 * Places sessions on transceivers over NATS request/reply: picks the nearest
 * healthy cluster with room and the least loaded transceiver in it
 * (placement.ts), sends the offer, and on a dead, slow or full transceiver
 * tries the next choice, which may be in the next nearest cluster.
 */
export class NatsSessionBroker implements SessionBroker {
  private readonly pending = new Map<string, PendingEntry>();
  private readonly timeoutMs: number;
  private readonly clusters: readonly ClusterConfig[];

  constructor(private readonly opts: NatsSessionBrokerOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_OFFER_TIMEOUT_MS;
    this.clusters = opts.clusters && opts.clusters.length > 0 ? opts.clusters : [{ name: opts.cluster }];
  }

  async create(req: CreateSessionRequest): Promise<CreateResult> {
    if (!(this.opts.isConnected?.() ?? !this.opts.nc.isClosed()))
      return { ok: false, code: 'unavailable', detail: 'NATS is disconnected' };
    const excludeTransceivers = new Set<string>();
    const excludeClusters = new Set<string>();
    const perCluster = new Map<string, number>();
    const failures: Retryable[] = [];
    const hintedCluster = resolveGeoHint(req.geoHint, this.opts.geoHints);
    let budget = MAX_ATTEMPTS;
    for (let attempt = 0; attempt < budget; attempt++) {
      const live = this.opts.table.live();
      const choice = placeSession({
        clusters: this.clusters,
        ...(this.opts.rtt && { measuredRttMs: this.opts.rtt.snapshot() }),
        transceivers: live,
        pending: this.pendingCounts(live),
        excludeTransceivers,
        excludeClusters,
        ...(hintedCluster !== undefined && { hintedCluster }),
      });
      if (!choice.ok) {
        // After a failed first attempt, that failure says more than "nobody else".
        if (failures.length > 0) break;
        return choice.reason === 'no_transceivers'
          ? {
              ok: false,
              code: 'no_transceivers',
              detail: `no transceivers in ${this.clusters.map((c) => `"${c.name}"`).join(', ')}`,
            }
          : {
              ok: false,
              code: 'no_capacity',
              detail: 'all transceivers of every cluster are full or draining',
            };
      }
      const result = await this.offerTo(choice.transceiver, req);
      if (result.ok || result.code !== 'retry') return result;
      excludeTransceivers.add(choice.transceiver.id);
      const tries = (perCluster.get(choice.cluster) ?? 0) + 1;
      perCluster.set(choice.cluster, tries);
      if (tries >= ATTEMPTS_PER_CLUSTER) excludeClusters.add(choice.cluster);
      if (result.cause === 'timeout') budget = Math.min(budget, attempt + 2);
      if (!(this.opts.isConnected?.() ?? !this.opts.nc.isClosed())) {
        failures.push({ ok: false, code: 'retry', cause: 'unavailable', detail: 'NATS is disconnected' });
        break;
      }
      failures.push(result);
      this.opts.log.info(
        { transceiver: choice.transceiver.id, cluster: choice.cluster, cause: result.cause, attempt },
        'offer attempt failed',
      );
    }
    // Reached only after at least one retryable failure; the first one names the problem.
    const first = failures[0] as Retryable;
    return { ok: false, code: first.cause, detail: failures.map((f) => f.detail).join('; then ') };
  }

  async close(sessionId: string): Promise<CloseResult> {
    const routeId = routeIdOfSession(sessionId);
    // A session whose transceiver is gone from discovery is gone with it.
    const t = routeId === undefined ? undefined : this.opts.table.byRouteId(routeId);
    if (!t) return { ok: false, code: 'not_found', detail: 'no such session' };
    const body: CloseRequest = { sessionId };
    const r = await this.request(closeSubject(t.id), body, CloseReply);
    if (!r.ok) return { ok: false, code: r.code, detail: r.detail };
    const reply = r.reply;
    if (reply.ok) return { ok: true };
    if (reply.code === 'not_found') return { ok: false, code: 'not_found', detail: 'no such session' };
    return { ok: false, code: 'transceiver_error', detail: clip(`transceiver failed: ${reply.message}`) };
  }

  /** WHIP PATCH: forwarded to the session's transceiver (found by the route id in the session id, as for close). */
  async restartIce(req: IceRestartRequest): Promise<RestartIceResult> {
    const routeId = routeIdOfSession(req.sessionId);
    const t = routeId === undefined ? undefined : this.opts.table.byRouteId(routeId);
    if (!t) return { ok: false, code: 'not_found', detail: 'no such session' };
    const r = await this.request(iceRestartSubject(t.id), req, IceRestartReply);
    if (!r.ok) return { ok: false, code: r.code, detail: r.detail };
    const reply = r.reply;
    if (reply.ok) return { ok: true, sdpfrag: reply.sdpfrag };
    if (reply.code === 'not_found' || reply.code === 'not_connected' || reply.code === 'bad_offer')
      return { ok: false, code: reply.code, detail: clip(reply.message) };
    return { ok: false, code: 'transceiver_error', detail: clip(`transceiver failed: ${reply.message}`) };
  }

  private async offerTo(t: TransceiverAnnounce, req: CreateSessionRequest): Promise<Attempt> {
    const sessionId = newSessionId(t.routeId);
    const body: OfferRequest = {
      sessionId,
      offer: req.offer,
      relay: this.opts.relay,
      ...(this.opts.relayTcp && { relayTcp: this.opts.relayTcp }),
      ...(req.agent !== undefined && { agent: req.agent }),
      ...(req.subject !== undefined && { subject: req.subject }),
    };
    const entry = this.pendingEntry(t);
    entry.inFlight++;
    let placed = false;
    try {
      const r = await this.request(offerSubject(t.id), body, OfferReply);
      if (!r.ok) {
        if (r.code === 'timeout') this.abandon(t, sessionId);
        if (r.code === 'transceiver_error') {
          this.abandon(t, sessionId);
          return { ok: false, code: 'transceiver_error', detail: r.detail };
        }
        return { ok: false, code: 'retry', cause: r.code, detail: r.detail };
      }
      const reply = r.reply;
      if (!reply.ok) {
        switch (reply.code) {
          case 'no_capacity':
          case 'draining':
            return { ok: false, code: 'retry', cause: reply.code, detail: clip(reply.message) };
          case 'bad_offer':
            return { ok: false, code: 'bad_offer', detail: clip(reply.message) };
          default:
            return {
              ok: false,
              code: 'transceiver_error',
              detail: clip(`transceiver failed: ${reply.message}`),
            };
        }
      }
      if (reply.sessionId !== sessionId) {
        this.opts.log.warn(
          { transceiver: t.id, sessionId, got: reply.sessionId },
          'offer reply for another session',
        );
        this.abandon(t, sessionId);
        return { ok: false, code: 'transceiver_error', detail: 'transceiver answered for another session' };
      }
      placed = true;
      this.opts.onPlaced?.({ sessionId, transceiverId: t.id, cluster: t.cluster, answer: reply.answer });
      return { ok: true, sessionId, answer: reply.answer };
    } finally {
      entry.inFlight--;
      if (placed) {
        // Announcements received during the request cover earlier placements, not this one.
        observe(entry, this.opts.table.get(t.id));
        entry.placed++;
      }
    }
  }

  /**
   * Best effort: a transceiver that answered too late (or garbled its reply)
   * may hold a session nobody will use. Transceivers also expire sessions
   * that never connect, so a lost close costs a little, not a leak.
   */
  private abandon(t: TransceiverAnnounce, sessionId: string): void {
    try {
      const body: CloseRequest = { sessionId };
      this.opts.nc.publish(closeSubject(t.id), encodeJson(body));
    } catch (e) {
      this.opts.log.debug({ err: (e as Error).message }, 'could not publish close for abandoned session');
    }
  }

  private async request<T extends z.ZodType>(
    subject: string,
    body: unknown,
    schema: T,
  ): Promise<
    | { ok: true; reply: z.infer<T> }
    | { ok: false; code: 'timeout' | 'unavailable' | 'transceiver_error'; detail: string }
  > {
    let data: Uint8Array;
    try {
      const msgHeaders = this.opts.injectHeaders ? headers() : undefined;
      if (msgHeaders) this.opts.injectHeaders?.(msgHeaders);
      const msg = await this.opts.nc.request(subject, encodeJson(body), {
        timeout: this.timeoutMs,
        ...(msgHeaders && { headers: msgHeaders }),
      });
      data = msg.data;
    } catch (e) {
      if (e instanceof TimeoutError) {
        this.opts.log.warn({ subject, timeoutMs: this.timeoutMs }, 'transceiver request timed out');
        return {
          ok: false,
          code: 'timeout',
          detail: `transceiver did not answer within ${this.timeoutMs} ms`,
        };
      }
      // No responders (transceiver gone) or NATS itself is down.
      this.opts.log.warn({ subject, err: (e as Error).message }, 'transceiver request failed');
      return { ok: false, code: 'unavailable', detail: 'transceiver unreachable' };
    }
    try {
      return { ok: true, reply: decodeJson(schema, data) };
    } catch (e) {
      this.opts.log.warn({ subject, err: (e as Error).message }, 'invalid reply from transceiver');
      return { ok: false, code: 'transceiver_error', detail: 'transceiver sent an invalid reply' };
    }
  }

  private pendingEntry(t: TransceiverAnnounce): PendingEntry {
    let entry = this.pending.get(t.id);
    if (!entry) {
      entry = { basis: t, inFlight: 0, placed: 0 };
      this.pending.set(t.id, entry);
    }
    return entry;
  }

  private pendingCounts(live: readonly TransceiverAnnounce[]): Map<string, number> {
    const counts = new Map<string, number>();
    const liveIds = new Set<string>();
    for (const t of live) {
      liveIds.add(t.id);
      const entry = this.pending.get(t.id);
      if (!entry) continue;
      observe(entry, t);
      const n = entry.inFlight + entry.placed;
      if (n > 0) counts.set(t.id, n);
    }
    // Forget transceivers that left discovery, unless a request to them is still out.
    for (const [id, entry] of this.pending)
      if (!liveIds.has(id) && entry.inFlight === 0) this.pending.delete(id);
    return counts;
  }
}

/**
 * The table stores each announcement as a fresh object, so an object other
 * than `basis` is a newer announcement, which counts every earlier placement.
 */
function observe(entry: PendingEntry, current: TransceiverAnnounce | undefined): void {
  if (current && current !== entry.basis) {
    entry.basis = current;
    entry.placed = 0;
  }
}

function clip(s: string): string {
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s;
}
