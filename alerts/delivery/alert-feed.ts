import type { EventEmitter } from 'node:events';
import type { Alert, AlertEvent } from '../alert-model.ts';

/**
 * The part of the AlertService (alerts/alert-service.ts) that live delivery reads: the open alerts
 * for a snapshot, and the bus on which every lifecycle event is emitted in seq order.
 */
export interface AlertFeed {
  readonly bus: EventEmitter<{ alert: [AlertEvent] }>;
  open(): Alert[];
}
