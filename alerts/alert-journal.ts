import { z } from 'zod';
import type { Point, TimeSeriesStore } from '../store/time-series-store.ts';
import type { Alert, AlertEvent } from './alert-model.ts';
import { alertSchema } from './alert-schema.ts';

/**
 * Alert history lives in the store beside the readings: every lifecycle event is a point of measurement
 * `alert_events` (tags ruleId, sensorId, kind, district, severity; fields alertId, state, type, seq, the
 * value and threshold, and a JSON snapshot of the whole alert). A restart folds these points back into the
 * open alerts, which is how state survives without a second database.
 */
export const ALERT_EVENTS_MEASUREMENT = 'alert_events';

const eventType = z.enum(['pending', 'firing', 'updated', 'acknowledged', 'workflow', 'resolved']);

export function eventToPoint(event: AlertEvent, ts: number): Point {
  const a = event.alert;
  const fields: Record<string, string | number> = {
    alertId: a.id,
    state: a.state,
    type: event.type,
    seq: event.seq,
    category: a.category,
    subCategory: a.subCategory,
    snapshot: JSON.stringify(a),
  };
  if (a.value !== undefined) fields.value = a.value;
  if (a.threshold !== undefined) fields.threshold = a.threshold;
  const by = event.type === 'acknowledged' ? a.acknowledgedBy : event.type === 'resolved' ? a.resolvedBy : undefined;
  if (by !== undefined) fields.by = by;
  return {
    measurement: ALERT_EVENTS_MEASUREMENT,
    tags: { ruleId: a.ruleId, sensorId: a.sensorId, kind: a.kind, district: a.district, severity: a.severity },
    fields,
    ts,
  };
}

/** A stored point back as an event; undefined for a point that is not one of ours (or is damaged). */
export function pointToEvent(point: Point): AlertEvent | undefined {
  const { snapshot, seq, type } = point.fields;
  if (typeof snapshot !== 'string' || typeof seq !== 'number') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(snapshot);
  } catch {
    return undefined;
  }
  const alert = alertSchema.safeParse(raw);
  const t = eventType.safeParse(type);
  if (!alert.success || !t.success) return undefined;
  return { seq, type: t.data, ts: point.ts, alert: alert.data as Alert };
}

export interface AlertHistory {
  readonly events: AlertEvent[];
  /** the point timestamps last used per (rule, sensor), so new points never overwrite old ones */
  readonly lastTs: Map<string, number>;
  readonly skipped: number;
}

/**
 * Events of one (rule, sensor) in the same millisecond are stored a millisecond apart, so the last of a
 * burst (an operator's acknowledge, start and steps in quick succession) can lie a little ahead of the
 * clock: reads of the history look this far ahead.
 */
export const HISTORY_AHEAD_MS = 60_000;

export async function readAlertHistory(
  store: TimeSeriesStore,
  from: number,
  to: number,
  tags?: Record<string, string>,
): Promise<AlertHistory> {
  const points = await store.queryPoints({
    measurement: ALERT_EVENTS_MEASUREMENT,
    from,
    to,
    ...(tags ? { tags } : {}),
  });
  const events: AlertEvent[] = [];
  const lastTs = new Map<string, number>();
  let skipped = 0;
  for (const p of points) {
    const e = pointToEvent(p);
    if (!e) {
      skipped++;
      continue;
    }
    events.push(e);
    const key = `${e.alert.ruleId}\u0001${e.alert.sensorId}`;
    lastTs.set(key, Math.max(lastTs.get(key) ?? -Infinity, p.ts));
  }
  events.sort((a, b) => a.seq - b.seq);
  return { events, lastTs, skipped };
}

/** The latest snapshot of each alert, in the order of their last event. */
export function latestSnapshots(events: readonly AlertEvent[]): Map<string, Alert> {
  const out = new Map<string, Alert>();
  for (const e of events) {
    out.delete(e.alert.id);
    out.set(e.alert.id, e.alert);
  }
  return out;
}
