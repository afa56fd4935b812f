import type { Logger } from 'pino';
import type { City } from '../config/city-config.ts';
import { DEVICE_STATUS_MEASUREMENT } from '../ingest/ingest-events.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import type { AlertEventLog } from './alert-event-log.ts';
import { HISTORY_AHEAD_MS, latestSnapshots, readAlertHistory } from './alert-journal.ts';
import type { AlertLifecycle } from './alert-lifecycle.ts';
import type { AlertRuleAdmin } from './alert-rule-admin.ts';
import type { AqiTracker } from './aqi-tracker.ts';
import type { Change, RuleEngine } from './rule-engine.ts';
import type { Rule } from './rule-schema.ts';

export interface AlertRestoreDeps {
  readonly store: TimeSeriesStore;
  readonly city: City;
  readonly engine: RuleEngine;
  readonly log: AlertEventLog;
  readonly lifecycle: AlertLifecycle;
  readonly admin: AlertRuleAdmin;
  readonly aqi: AqiTracker | undefined;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
  /** how far back to look for alert events and device statuses */
  readonly windowMs: number;
  readonly onChanges: (changes: readonly Change[]) => void;
}

/**
 * Start after a restart where the last run stopped: open alerts, `for` phases, event numbering and device
 * silence come back from the store (as Prometheus restores `for` state), so nothing is announced twice.
 * Every read may fail: a store that cannot be read must not keep the platform down.
 */
export async function restoreAlertState(deps: AlertRestoreDeps, rules: readonly Rule[], now: number): Promise<void> {
  const { store, engine, log, lifecycle, logger, windowMs } = deps;
  engine.setRules(rules, now);
  // silence counts from when each device was last heard of, not from this start
  const latest = await store.latest({}).catch((err: unknown) => {
    logger.warn({ err }, 'latest readings could not be read; silence counts from now');
    return [];
  });
  const seen = new Map<string, number>();
  for (const v of latest) seen.set(v.sensorId, Math.max(seen.get(v.sensorId) ?? -Infinity, v.ts));
  for (const [sensorId, ts] of seen) engine.seedLastSeen(sensorId, ts);
  // Without the history: start without the open alerts (they may be announced again) and number events
  // from the clock, so seq still only grows.
  const history = await readAlertHistory(store, now - windowMs, now + HISTORY_AHEAD_MS).catch((err: unknown) => {
    logger.error({ err }, 'open alerts could not be restored from the store; starting without them');
    return { events: [], lastTs: new Map<string, number>(), skipped: 0, failed: true };
  });
  if (history.skipped) logger.warn({ skipped: history.skipped }, 'unreadable alert events in the store were skipped');
  log.resume('failed' in history ? now : history.events.reduce((m, e) => Math.max(m, e.seq), 0), history.lastTs);
  for (const alert of latestSnapshots(history.events).values()) lifecycle.restore(alert);
  if (deps.aqi) {
    await deps.aqi.backfill(store, now).catch((err: unknown) => {
      logger.warn({ err }, 'VN_AQI history could not be read; NowCast starts empty');
    });
  }
  deps.admin.apply(rules, 'system');
  await restoreOffline(deps, seen, now);
}

/**
 * Devices whose last word before the restart was "offline" (and that sent nothing since) are still
 * offline: the retained status is not published again to ingest.
 */
async function restoreOffline(deps: AlertRestoreDeps, seen: ReadonlyMap<string, number>, now: number): Promise<void> {
  const { store, city, engine, logger, windowMs } = deps;
  const statuses = await store
    .queryPoints({ measurement: DEVICE_STATUS_MEASUREMENT, from: now - windowMs, to: now + 1 })
    .catch((err: unknown) => {
      logger.warn({ err }, 'device statuses could not be read');
      return [];
    });
  const lastStatus = new Map(statuses.map((p) => [p.tags.sensorId ?? '', p]));
  for (const [sensorId, p] of lastStatus) {
    const sensor = city.sensorsById.get(sensorId);
    if (!sensor || p.fields.status !== 'offline' || (seen.get(sensorId) ?? -Infinity) > p.ts) continue;
    const event = {
      sensorId,
      kind: sensor.kind,
      district: sensor.district,
      status: 'offline',
      ts: p.ts,
      source: 'will',
    } as const;
    deps.onChanges(engine.onStatus(event, now));
  }
}
