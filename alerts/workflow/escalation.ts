import type { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { DomainError } from '../../core/domain-error.ts';
import type { Operations } from '../../config/operations-config.ts';
import type { AuditRecorder } from '../../audit/audit-log.ts';
import type { Alert, AlertEvent } from '../alert-model.ts';
import type { AlertService } from '../alert-service-api.ts';
import { subjectOf } from './silence-model.ts';
import type { SilenceStore } from './silence-store.ts';
import { withEntry } from './workflow-model.ts';
import { coverOf, isOffHours } from './working-hours.ts';

/**
 * Escalation on the injected clock. An alert not acknowledged within its severity's target climbs a
 * ladder, one rung per target elapsed since it fired: 1 re-notifies its agency, 2 notifies the agency's
 * next level (`escalatesTo`, else the duty desk), 3 notifies the IOC duty desk. Once acknowledged the same
 * ladder starts again against the resolve target. Each rung is an event in the alert's history and an
 * audit entry. The deadline is a function of the stored alert (fired at, phase, level), so a restart
 * re-arms it from the snapshot; an alert found overdue climbs straight to the rung it has reached, once.
 * A silenced alert does not escalate (it is looked at again when its silence ends). The silence mark on
 * an open alert follows the silences: one added marks the open alerts it matches, and when it ends (early
 * or its window closes) the mark goes, with an `unsilenced` entry, so the alert is notified and escalates.
 * Outside the recipient's working hours a rung goes to the IOC duty desk instead, marked `offHours`.
 */
export interface EscalationDeps {
  readonly alerts: AlertService;
  readonly ops: Operations;
  readonly silences: SilenceStore;
  readonly clock: Clock;
  readonly logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  readonly audit?: AuditRecorder;
  readonly count?: (level: number) => void;
  /** cluster mode: open alerts this node took over from another (alerts/alert-partition-control.ts) */
  readonly onAdopted?: (listener: (open: readonly Alert[]) => void) => void;
}

export interface Escalation {
  start(): void;
  stop(): void;
  /** the clock time the alert next escalates, if it will (tests, the console) */
  nextAt(alertId: string): number | undefined;
}

export const MAX_LEVEL = 3;
const SYSTEM = { name: 'platform', role: 'system' } as const;

interface Plan {
  readonly base: number;
  readonly step: number;
  readonly phase: 'acknowledge' | 'resolve';
  readonly level: number;
}

function planOf(ops: Operations, a: Alert): Plan | undefined {
  const w = a.workflow;
  const target = ops.escalation[a.severity];
  if (!w || !target || a.state === 'pending' || a.state === 'resolved') return undefined;
  const phase = a.state === 'firing' ? 'acknowledge' : 'resolve';
  const level = w.escalation.phase === phase ? w.escalation.level : 0;
  return {
    base: a.firingAt ?? a.startsAt,
    step: phase === 'acknowledge' ? target.acknowledge : target.resolve,
    phase,
    level,
  };
}

/** who rung `level` notifies */
export function recipientOf(ops: Operations, agencyId: string, level: number): string {
  if (level <= 1) return agencyId;
  if (level === 2) return ops.agenciesById.get(agencyId)?.escalatesTo ?? ops.dutyDesk;
  return ops.dutyDesk;
}

export function startEscalation(deps: EscalationDeps): Escalation {
  const { alerts, ops, silences, clock, logger } = deps;
  const timers = new Map<string, { at: number; handle: TimerHandle }>();

  const cancel = (id: string): void => {
    timers.get(id)?.handle.cancel();
    timers.delete(id);
  };

  const silencedNow = (a: Alert, now: number): string | undefined => {
    const mark = a.workflow?.silence;
    if (mark && silences.isActive(mark.id, now)) return mark.id;
    return silences.activeFor(subjectOf(a, alerts.rules.get(a.ruleId)?.type), now)?.id;
  };

  const schedule = (a: Alert): void => {
    const plan = planOf(ops, a);
    if (!plan || plan.level >= MAX_LEVEL) {
      cancel(a.id);
      return;
    }
    const at = plan.base + (plan.level + 1) * plan.step;
    const existing = timers.get(a.id);
    if (existing?.at === at) return;
    existing?.handle.cancel();
    const handle = clock.setTimeout(
      () => {
        timers.delete(a.id);
        void climb(a.id);
      },
      Math.max(0, at - clock.now()),
    );
    timers.set(a.id, { at, handle });
  };

  const climb = async (id: string): Promise<void> => {
    const now = clock.now();
    const a = alerts.open().find((x) => x.id === id);
    if (!a) return;
    const plan = planOf(ops, a);
    if (!plan) return;
    const silence = silencedNow(a, now);
    if (a.workflow && a.workflow.silence?.id !== silence) {
      await remark(id, silence);
      return;
    }
    if (silence) {
      // not escalated while silenced; looked at again when the window closes (or one step later)
      const again = silences.windowEnd(silence, now) ?? now + plan.step;
      const handle = clock.setTimeout(
        () => {
          timers.delete(id);
          void climb(id);
        },
        Math.max(1, again - now),
      );
      timers.set(id, { at: again, handle });
      return;
    }
    const reached = Math.min(MAX_LEVEL, Math.floor((now - plan.base) / plan.step));
    if (reached <= plan.level) {
      schedule(a);
      return;
    }
    // a rung meant for an agency that is off hours goes to the duty desk at once (working-hours.ts)
    const intended = recipientOf(ops, a.workflow!.agencyId, reached);
    const cover = coverOf(ops, intended, now);
    const recipient = cover ?? intended;
    const offHours = cover !== undefined || isOffHours(ops, recipient, now);
    try {
      await alerts.amend(id, 'workflow', (cur) => {
        const p = planOf(ops, cur);
        // handled meanwhile (acknowledged, resolved, climbed): nothing to do
        if (!p || p.phase !== plan.phase || p.level >= reached)
          throw new DomainError('conflict', 'escalation_stale', 'alert changed');
        const w = cur.workflow!;
        return {
          ...cur,
          workflow: withEntry(
            { ...w, escalation: { phase: plan.phase, level: reached, at: now } },
            {
              at: now,
              by: 'system',
              action: 'escalated',
              level: reached,
              agencyId: recipient,
              note:
                `${plan.phase === 'acknowledge' ? 'not acknowledged' : 'not resolved'} ` +
                `within ${Math.round(plan.step / 60_000) * reached} min` +
                (cover ? `; ${intended} is off hours` : ''),
              ...(offHours ? { offHours } : {}),
            },
          ),
        };
      });
    } catch (err) {
      if (err instanceof DomainError) return;
      logger.warn({ err, alertId: id }, 'escalation could not be recorded');
      return;
    }
    deps.count?.(reached);
    logger.info({ alertId: id, level: reached, to: recipient, phase: plan.phase }, 'alert escalated');
    await deps.audit?.record({
      actor: SYSTEM,
      address: 'local',
      action: 'alert.escalate',
      target: id,
      details: { level: reached, to: recipient, phase: plan.phase, ...(offHours ? { offHours } : {}) },
    });
  };

  /** puts the alert's silence mark right (another silence, or none): one event; climb() runs again after it */
  const remark = async (id: string, silenceId: string | undefined): Promise<void> => {
    const now = clock.now();
    const s = silenceId ? silences.get(silenceId) : undefined;
    try {
      await alerts.amend(id, 'workflow', (cur) => {
        const w = cur.workflow;
        if (!w || w.silence?.id === silenceId) throw new DomainError('conflict', 'silence_unchanged', 'already so');
        const { silence: _old, ...rest } = w;
        if (!s)
          return {
            ...cur,
            workflow: withEntry(rest, { at: now, by: 'system', action: 'unsilenced', note: w.silence?.reason }),
          };
        const until = silences.windowEnd(s.id, now);
        return {
          ...cur,
          workflow: withEntry(
            { ...rest, silence: { id: s.id, reason: s.reason, ...(until !== undefined ? { until } : {}) } },
            { at: now, by: 'system', action: 'silenced', note: s.reason },
          ),
        };
      });
    } catch (err) {
      if (!(err instanceof DomainError)) logger.warn({ err, alertId: id }, 'silence mark could not be recorded');
    }
  };

  silences.onChange((silence, change) => {
    for (const a of alerts.open()) {
      if (change === 'ended' && a.workflow?.silence?.id === silence.id) void climb(a.id);
      if (change === 'added' && a.workflow && !a.workflow.silence && silencedNow(a, clock.now()) === silence.id)
        void remark(a.id, silence.id);
    }
  });

  const onEvent = (e: AlertEvent): void => {
    if (e.alert.state === 'resolved') cancel(e.alert.id);
    else schedule(e.alert);
  };

  return {
    start() {
      (alerts.bus as EventEmitter<{ alert: [AlertEvent] }>).on('alert', onEvent);
      for (const a of alerts.open()) schedule(a);
      // their escalation counts on from the alert's own history (plan.base), not from the hand-over
      deps.onAdopted?.((open) => {
        for (const a of open) schedule(a);
      });
    },
    stop() {
      alerts.bus.off('alert', onEvent);
      for (const id of [...timers.keys()]) cancel(id);
    },
    nextAt: (id) => timers.get(id)?.at,
  };
}
