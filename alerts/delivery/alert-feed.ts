import type { EventEmitter } from 'node:events';
import type { Alert, AlertEvent } from '../alert-model.ts';

/**
 * The part of the AlertService (alerts/alert-service.ts) that live delivery reads: the open alerts
 * for a snapshot, and the bus on which every lifecycle event is emitted in seq order.
 */
export interface AlertFeed {
  readonly bus: EventEmitter<{ alert: [AlertEvent] }>;
  open(): Alert[];
  /** the seq of the newest event announced (a snapshot reflects it) */
  readonly lastSeq?: number;
  /**
   * The events after `seq`, in order, for a stream client that reconnects (`?since=`); `complete` is false
   * when the feed no longer holds all of them (or `seq` is newer than any event), or more than `count`: the
   * client needs a snapshot.
   */
  since?(seq: number, count?: number): Promise<FeedSince>;
  /**
   * A feed that can lose events (a cluster node that fell behind the shared stream's trimming) takes its open
   * alerts anew and tells `listener`, so live clients get a fresh snapshot; returns the way to stop listening.
   */
  onResync?(listener: () => void): () => void;
}

export interface FeedSince {
  readonly events: AlertEvent[];
  readonly complete: boolean;
}
