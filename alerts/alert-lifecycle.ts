import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Sensor } from '../config/city-config.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/domain-error.ts';
import type { Alert, AlertEventType } from './alert-model.ts';
import type { RaiseHook } from './alert-service-api.ts';
import type { AlertEventLog } from './alert-event-log.ts';
import { LOCALES } from './alert-text.ts';
import { entryKey, type Change } from './rule-engine.ts';
import type { RuleTypes } from './rule-types.ts';

const RECENT_LIMIT = 2000;

/**
 * The lifecycle of alerts, one open alert per (rule, sensor): pending -> firing -> acknowledged ->
 * resolved, driven by the rule engine's changes and by operators. Every transition is one event in the
 * event log. A pair an operator resolved while its condition still held stays quiet until the condition
 * clears (`suppressed`), so a resolve is not undone by the next reading.
 */
export class AlertLifecycle {
  private readonly openById = new Map<string, Alert>();
  private readonly byKey = new Map<string, string>();
  /** alerts resolved lately, newest last: answers for an id without reading the store */
  private readonly recent = new Map<string, Alert>();
  private readonly suppressed = new Set<string>();

  /** routing and silences for each new alert (alerts/workflow/); set once the workflow is built */
  raiseHook: RaiseHook | undefined;

  constructor(
    private readonly log: AlertEventLog,
    private readonly clock: Clock,
    private readonly ruleTypes?: RuleTypes,
    private readonly logger?: Pick<Logger, 'error'>,
  ) {}

  open(): Alert[] {
    return [...this.openById.values()];
  }

  /** an alert known in memory: open, or resolved lately */
  known(id: string): Alert | undefined {
    return this.openById.get(id) ?? this.recent.get(id);
  }

  recentAndOpen(): Alert[] {
    return [...this.recent.values(), ...this.openById.values()];
  }

  /** Puts back an alert read from the store at start. */
  restore(alert: Alert): void {
    if (alert.state === 'resolved') {
      this.remember(alert);
      return;
    }
    this.openById.set(alert.id, alert);
    this.byKey.set(entryKey(alert.ruleId, alert.sensorId), alert.id);
  }

  /** Drops the open alerts (and quiet pairs) of these sensors without an event: another node holds them now. */
  forget(match: (sensorId: string) => boolean): void {
    for (const alert of [...this.openById.values()]) {
      if (!match(alert.sensorId)) continue;
      this.openById.delete(alert.id);
      this.byKey.delete(entryKey(alert.ruleId, alert.sensorId));
    }
    for (const key of [...this.suppressed])
      if (match(key.slice(key.indexOf('\u0001') + 1))) this.suppressed.delete(key);
  }

  /** The open alert with this id, or why there is none: resolved already (409) or unknown (404). */
  async openAlert(id: string, find: (id: string) => Promise<Alert | undefined>): Promise<Alert> {
    const alert = this.openById.get(id);
    if (alert) return alert;
    const closed = await find(id);
    throw closed
      ? new DomainError('conflict', 'alert_resolved', `alert ${id} is already resolved`)
      : new DomainError('not_found', 'alert_not_found', `no alert ${id}`);
  }

  /** A change from the rule engine. */
  apply(change: Change): void {
    const { key } = change;
    const current = this.byKey.get(key);
    const alert = current ? this.openById.get(current) : undefined;
    if (change.transition === 'resolved') {
      this.suppressed.delete(key);
      if (alert) this.close(alert, 'system', `${LOCALES.vi.resolvedByRule} / ${LOCALES.en.resolvedByRule}`);
      return;
    }
    if (this.suppressed.has(key)) return;
    const now = this.clock.now();
    if (change.transition === 'pending') {
      if (alert) return;
      const created = this.raise(change, 'pending');
      if (!created) {
        this.suppressed.add(key);
        return;
      }
      this.openById.set(created.id, created);
      this.byKey.set(key, created.id);
      this.log.emit('pending', created);
      return;
    }
    // firing
    if (alert && alert.state !== 'pending') return;
    const fired: Alert | undefined = alert
      ? {
          ...alert,
          state: 'firing',
          firingAt: now,
          updatedAt: now,
          title: change.facts.title,
          message: change.facts.message,
          ...(change.facts.value !== undefined ? { value: change.facts.value } : {}),
        }
      : this.raise(change, 'firing');
    // held back (a device under maintenance): quiet until the condition clears, as after an operator's resolve
    if (!fired) {
      this.suppressed.add(key);
      return;
    }
    this.openById.set(fired.id, fired);
    this.byKey.set(key, fired.id);
    this.log.emit('firing', fired);
  }

  /** An operator acknowledges a firing alert; returns it and its event's seq. */
  acknowledge(alert: Alert, by: string, note: string | undefined): { alert: Alert; seq: number } {
    if (alert.state === 'pending')
      throw new DomainError(
        'conflict',
        'alert_pending',
        `alert ${alert.id} is pending; it can be acknowledged once it fires`,
      );
    if (alert.state === 'acknowledged' || alert.state === 'inProgress')
      throw new DomainError(
        'conflict',
        'alert_acknowledged',
        `alert ${alert.id} was already acknowledged by ${alert.acknowledgedBy}`,
      );
    const now = this.clock.now();
    const acked: Alert = {
      ...alert,
      state: 'acknowledged',
      acknowledgedAt: now,
      acknowledgedBy: by,
      updatedAt: now,
      ...(note ? { ackNote: note } : {}),
    };
    this.openById.set(alert.id, acked);
    return { alert: acked, seq: this.log.emit('acknowledged', acked) };
  }

  /** An operator resolves; `stillHolds`: the condition is not over, so the pair stays quiet until it is. */
  resolveBy(
    alert: Alert,
    by: string,
    note: string | undefined,
    stillHolds: boolean,
    change?: (a: Alert) => Alert,
  ): { alert: Alert; seq: number } {
    // the change may refuse (throws) before anything is touched
    if (change) change({ ...alert, state: 'resolved' });
    if (stillHolds) this.suppressed.add(entryKey(alert.ruleId, alert.sensorId));
    return this.close(alert, by, note, change);
  }

  /** A workflow change (start, assign, step, escalation, silence mark) to an open alert, as one event. */
  amend(alert: Alert, type: AlertEventType, changed: Alert): number {
    this.openById.set(alert.id, changed);
    return this.log.emit(type, changed);
  }

  /** the open alert with this id as it is now (an amend checks nothing changed it meanwhile) */
  current(id: string): Alert | undefined {
    return this.openById.get(id);
  }

  /** The rule changed severity or category: the open alert follows. */
  update(alert: Alert, changes: Pick<Alert, 'severity' | 'category' | 'subCategory'>): void {
    const updated: Alert = { ...alert, ...changes, updatedAt: this.clock.now() };
    this.openById.set(updated.id, updated);
    this.log.emit('updated', updated);
  }

  close(
    alert: Alert,
    by: string,
    note: string | undefined,
    change?: (a: Alert) => Alert,
  ): { alert: Alert; seq: number } {
    const now = this.clock.now();
    const base: Alert = {
      ...alert,
      state: 'resolved',
      resolvedAt: now,
      resolvedBy: by,
      updatedAt: now,
      ...(note ? { resolveNote: note } : {}),
    };
    const resolved = change ? change(base) : base;
    this.openById.delete(alert.id);
    const key = entryKey(alert.ruleId, alert.sensorId);
    if (this.byKey.get(key) === alert.id) this.byKey.delete(key);
    this.remember(resolved);
    return { alert: resolved, seq: this.log.emit('resolved', resolved) };
  }

  private remember(alert: Alert): void {
    this.recent.set(alert.id, alert);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
  }

  /** a new alert through the workflow's hook; undefined: held back (a device under maintenance) */
  private raise(change: Change, state: 'pending' | 'firing'): Alert | undefined {
    const alert = this.newAlert(change, change.sensor, state);
    if (!this.raiseHook) return alert;
    try {
      return this.raiseHook(alert, {
        rule: change.rule,
        aboutDevice: this.ruleTypes?.get(change.rule.type)?.aboutDevice === true,
      });
    } catch (err) {
      // routing must never lose an alert: raise it unrouted and say so
      this.logger?.error(
        { err, ruleId: alert.ruleId, sensorId: alert.sensorId },
        'alert routing failed; raised without an agency',
      );
      return alert;
    }
  }

  private newAlert(change: Change, sensor: Sensor, state: 'pending' | 'firing'): Alert {
    const now = this.clock.now();
    const { rule, facts } = change;
    return {
      id: randomUUID(),
      ruleId: rule.id,
      sensorId: sensor.id,
      kind: sensor.kind,
      district: sensor.district,
      severity: rule.severity,
      category: rule.category,
      subCategory: rule.subCategory,
      state,
      title: facts.title,
      message: facts.message,
      ...(facts.metric !== undefined ? { metric: facts.metric } : {}),
      ...(facts.value !== undefined ? { value: facts.value } : {}),
      ...(facts.threshold !== undefined ? { threshold: facts.threshold } : {}),
      ...(facts.unit !== undefined ? { unit: facts.unit } : {}),
      location: { lat: sensor.lat, lon: sensor.lon },
      startsAt: change.cond.since ?? now,
      ...(state === 'firing' ? { firingAt: now } : {}),
      updatedAt: now,
    };
  }
}
