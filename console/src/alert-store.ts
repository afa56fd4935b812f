import type { Alert, AlertEvent, Severity } from './api-types.ts';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'informational'];
const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, informational: 0 };
const MAX_RESOLVED_KEPT = 500;

export interface SensorAlertSummary {
  /** the worst severity among the sensor's open alerts */
  severity: Severity;
  /** true while any open alert on the sensor is not yet acknowledged */
  unacknowledged: boolean;
}

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

export function alertTime(alert: Alert): number {
  return alert.firingAt ?? alert.startsAt;
}

/**
 * The console's copy of the alerts: the stream's snapshot plus every event after it. Renderers poll
 * `version` once per animation frame, so a burst of 100 events costs one render, not 100.
 */
export class AlertStore {
  version = 0;
  private readonly byId = new Map<string, Alert>();
  private readonly dirtySensors = new Set<string>();

  applySnapshot(alerts: readonly Alert[]): void {
    const incoming = new Set(alerts.map((a) => a.id));
    for (const [id, alert] of this.byId) {
      // an open alert missing from a fresh snapshot was resolved while we were disconnected
      if (alert.state !== 'resolved' && !incoming.has(id)) {
        this.byId.delete(id);
        this.dirtySensors.add(alert.sensorId);
      }
    }
    for (const alert of alerts) this.put(alert);
    this.version++;
  }

  /** Returns true when the event is a newly firing critical alert (the operator must be told). */
  applyEvent(event: AlertEvent): boolean {
    const previous = this.byId.get(event.alert.id);
    if (previous && previous.updatedAt > event.alert.updatedAt) return false; // stale, out of order
    this.put(event.alert);
    this.version++;
    if (event.alert.severity !== 'critical') return false;
    if (event.type === 'firing') return previous?.state !== 'firing';
    return (
      event.type === 'updated' &&
      previous !== undefined &&
      previous.severity !== 'critical' &&
      event.alert.state === 'firing'
    );
  }

  /** A reply to our own ack/resolve may arrive before the stream's event: take whichever is newer. */
  applyAlert(alert: Alert): void {
    const previous = this.byId.get(alert.id);
    if (previous && previous.updatedAt > alert.updatedAt) return;
    this.put(alert);
    this.version++;
  }

  get(id: string): Alert | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<Alert> {
    return this.byId.values();
  }

  openCountsBySeverity(): Record<Severity, number> {
    const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, informational: 0 };
    for (const alert of this.byId.values()) if (alert.state !== 'resolved') counts[alert.severity]++;
    return counts;
  }

  summaryForSensor(sensorId: string): SensorAlertSummary | undefined {
    let summary: SensorAlertSummary | undefined;
    for (const alert of this.byId.values()) {
      if (alert.sensorId !== sensorId || alert.state === 'resolved') continue;
      const unacked = alert.state !== 'acknowledged' && alert.state !== 'inProgress';
      if (!summary) summary = { severity: alert.severity, unacknowledged: unacked };
      else {
        if (RANK[alert.severity] > RANK[summary.severity]) summary.severity = alert.severity;
        summary.unacknowledged ||= unacked;
      }
    }
    return summary;
  }

  /** Per-sensor summaries of every open alert, computed in one pass (for the map after a burst). */
  summariesBySensor(): Map<string, SensorAlertSummary> {
    const out = new Map<string, SensorAlertSummary>();
    for (const alert of this.byId.values()) {
      if (alert.state === 'resolved') continue;
      const unacked = alert.state !== 'acknowledged' && alert.state !== 'inProgress';
      const summary = out.get(alert.sensorId);
      if (!summary) out.set(alert.sensorId, { severity: alert.severity, unacknowledged: unacked });
      else {
        if (RANK[alert.severity] > RANK[summary.severity]) summary.severity = alert.severity;
        summary.unacknowledged ||= unacked;
      }
    }
    return out;
  }

  /** Sensors whose alert picture changed since the last call. */
  takeDirtySensors(): Set<string> {
    const dirty = new Set(this.dirtySensors);
    this.dirtySensors.clear();
    return dirty;
  }

  private put(alert: Alert): void {
    this.byId.set(alert.id, alert);
    this.dirtySensors.add(alert.sensorId);
    if (alert.state === 'resolved') this.pruneResolved();
  }

  private pruneResolved(): void {
    let resolved = 0;
    for (const alert of this.byId.values()) if (alert.state === 'resolved') resolved++;
    if (resolved <= MAX_RESOLVED_KEPT) return;
    const oldest = [...this.byId.values()]
      .filter((a) => a.state === 'resolved')
      .sort((a, b) => (a.resolvedAt ?? a.updatedAt) - (b.resolvedAt ?? b.updatedAt))
      .slice(0, resolved - MAX_RESOLVED_KEPT);
    for (const alert of oldest) this.byId.delete(alert.id);
  }
}
