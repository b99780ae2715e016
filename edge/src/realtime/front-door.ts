import type { Server } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import { routeIdOfSession } from '@parley/shared/discovery/session-id.js';
import type { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import type { Logger } from '@parley/shared/log.js';
import { encodeJson } from '@parley/shared/nats/codec.js';
import {
  type RealtimeControlRequest,
  realtimeControlSubject,
} from '@parley/shared/nats/realtime-subjects.js';
import type { Hono } from 'hono';
import type { SessionBroker } from '../signaling/session-broker.js';
import { ClientSecrets, parseAppKeys } from './client-secrets.js';

const INITIAL_TIMEOUT_MS = 1_000;

import { mountRealtimeRoutes } from './realtime-routes.js';
import { RealtimeSideband } from './sideband.js';

export interface RealtimeFrontDoorDeps {
  broker: SessionBroker;
  nc: NatsConnection;
  table: TransceiverTable;
  log: Logger;
  maxOfferBytes: number;
  /** Where PARLEY_REALTIME_API_KEYS is read; process.env by default. */
  env?: Record<string, string | undefined>;
}

export interface RealtimeFrontDoor {
  /** Takes sideband WebSocket upgrades on the edge's HTTP server. */
  attach(server: Server): void;
  close(): void;
}

/**
 * The OpenAI-Realtime-compatible front door, on when PARLEY_REALTIME_API_KEYS
 * names at least one application key: its HTTP routes go onto the signaling
 * app, its sideband WebSocket onto the HTTP server. Off (undefined) otherwise,
 * so a deployment that never set a key exposes none of it.
 */
export function mountRealtimeFrontDoor(
  // biome-ignore lint/suspicious/noExplicitAny: mounts onto the signaling app whatever its Env type.
  app: Hono<any>,
  deps: RealtimeFrontDoorDeps,
): RealtimeFrontDoor | undefined {
  const value = (deps.env ?? process.env).PARLEY_REALTIME_API_KEYS;
  if (value === undefined || value.trim() === '') return undefined;
  const secrets = new ClientSecrets(parseAppKeys(value));
  mountRealtimeRoutes(app, {
    secrets,
    broker: deps.broker,
    log: deps.log,
    maxOfferBytes: deps.maxOfferBytes,
    applyInitialSession: async (callId, session) => {
      const routeId = routeIdOfSession(callId);
      const t = routeId === undefined ? undefined : deps.table.byRouteId(routeId);
      if (!t) return;
      const body: RealtimeControlRequest = {
        sessionId: callId,
        event: { type: 'session.update', session },
        initial: true,
      };
      try {
        await deps.nc.request(realtimeControlSubject(t.id), encodeJson(body), {
          timeout: INITIAL_TIMEOUT_MS,
        });
      } catch (err) {
        // The call still works, with default settings; the client's own session.update can set them.
        deps.log.warn(
          { call: callId, err: (err as Error).message },
          'initial realtime settings not delivered',
        );
      }
    },
  });
  const sideband = new RealtimeSideband({ nc: deps.nc, table: deps.table, secrets, log: deps.log });
  deps.log.info(
    { keys: secrets.keys.map((k) => k.id) },
    'OpenAI-Realtime-compatible front door on /v1/realtime',
  );
  return {
    attach: (server) => sideband.attach(server),
    close: () => sideband.close(),
  };
}
