import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../log.js';
import { decodeJson } from '../nats/codec.js';
import { TransceiverAnnounce } from '../nats/schemas.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT } from '../nats/subjects.js';
import type { TransceiverTable } from './transceiver-table.js';

export interface TransceiverWatch {
  /** Count of announcements dropped because they did not validate. */
  readonly invalid: number;
  stop(): void;
}

/**
 * Keeps a TransceiverTable fed from NATS announcements, and asks every
 * transceiver to announce at once so a fresh edge or relay is useful
 * immediately instead of after the next periodic announcement.
 */
export function watchTransceivers(
  nc: NatsConnection,
  table: TransceiverTable,
  log: Logger,
): TransceiverWatch {
  let invalid = 0;
  const sub: Subscription = nc.subscribe(ANNOUNCE_SUBJECT, {
    callback: (err, msg) => {
      if (err) return;
      try {
        table.upsert(decodeJson(TransceiverAnnounce, msg.data));
      } catch (e) {
        invalid++;
        log.debug({ err: (e as Error).message }, 'dropped invalid announcement');
      }
    },
  });
  nc.publish(DISCOVER_SUBJECT);
  return {
    get invalid() {
      return invalid;
    },
    stop: () => sub.unsubscribe(),
  };
}
