import type { Logger } from 'pino';
import type { City } from '../config/city-config.ts';
import type { Clock } from '../core/clock.ts';
import type { IngestEvents } from './ingest-events.ts';

/**
 * The broker refuses some of a device's messages before ingest sees them (ACL, retain, rate, abuse). They
 * count against the device's health like ingest's own refusals, so the broker's refusal log is given this
 * listener by the composition root and the broker never learns of alerts (dependencies point down the flow).
 * Accounts that are not sensors (operators, integrations, `address:...`) are not devices: ignored.
 */
export function announceDeviceRefusals(
  events: IngestEvents,
  city: City,
  clock: Clock,
  logger: Logger,
): (reason: string, account: string) => void {
  return (reason, account) => {
    if (!city.sensorsById.has(account)) return;
    try {
      events.emit('refused', { sensorId: account, code: reason, count: 1, ts: clock.now() });
    } catch (err) {
      // the refusal itself stands (the broker already answered): a failing listener is only reported
      logger.error({ err, event: 'refused' }, 'an ingest event listener threw');
    }
  };
}
