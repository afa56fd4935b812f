import { z } from 'zod';
import type { Alert, AlertEvent } from '../alerts/alert-model.ts';
import { ALERT_STATES, alertSchema } from '../alerts/alert-schema.ts';
import { DomainError } from '../core/domain-error.ts';
import { MAX_TIME_MS } from '../store/query-bounds.ts';
import { ALERT_EVENT_TYPES } from '../alerts/delivery/webhook-target.ts';
import { presentWorkflow } from '../alerts/workflow/workflow-presenter.ts';

/** How an alert looks over the API, the WebSocket stream, MQTT and webhooks: the alerts' own schema. */
export { ALERT_STATES };
export const alertBody = alertSchema;

export const alertEventBody = z.object({
  seq: z.number(),
  type: z.enum(ALERT_EVENT_TYPES),
  ts: z.number(),
  alert: alertBody,
});

export type AlertBody = z.infer<typeof alertBody>;

/** Copies the model's fields explicitly, so an internal field added to an alert never leaks out. */
export function presentAlert(a: Alert): AlertBody {
  return {
    id: a.id,
    ruleId: a.ruleId,
    sensorId: a.sensorId,
    kind: a.kind,
    district: a.district,
    severity: a.severity,
    category: a.category,
    subCategory: a.subCategory,
    state: a.state,
    title: { vi: a.title.vi, en: a.title.en },
    message: { vi: a.message.vi, en: a.message.en },
    metric: a.metric,
    value: a.value,
    threshold: a.threshold,
    unit: a.unit,
    location: a.location ? { lat: a.location.lat, lon: a.location.lon } : undefined,
    startsAt: a.startsAt,
    firingAt: a.firingAt,
    updatedAt: a.updatedAt,
    acknowledgedAt: a.acknowledgedAt,
    acknowledgedBy: a.acknowledgedBy,
    ackNote: a.ackNote,
    resolvedAt: a.resolvedAt,
    resolvedBy: a.resolvedBy,
    resolveNote: a.resolveNote,
    flapping: a.flapping,
    workflow: a.workflow ? presentWorkflow(a.workflow) : undefined,
  };
}

export function presentEvent(e: AlertEvent): z.infer<typeof alertEventBody> {
  return { seq: e.seq, type: e.type, ts: e.ts, alert: presentAlert(e.alert) };
}

/** A query-string list: `?severity=high,critical` or `?severity=high&severity=critical`. */
export const queryList = z.union([z.string(), z.array(z.string())]).optional();

const timeRe = /^-?\d+$/;
/** ISO-8601 or epoch milliseconds; undefined when absent. Throws with the parameter's name. */
export function parseTimeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = timeRe.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIME_MS)
    throw new DomainError(
      'invalid',
      'invalid_time',
      `${name} must be ISO-8601 or epoch milliseconds (within ±${MAX_TIME_MS}), got "${value}"`,
    );
  return ms;
}
