import type { Clock } from '../../core/clock.ts';
import { DomainError } from '../../core/domain-error.ts';
import type { Operations } from '../../config/operations-config.ts';
import type { Sop } from '../../config/sop-config.ts';
import type { Alert } from '../alert-model.ts';
import type { AlertService, RaiseHook } from '../alert-service-api.ts';
import { agenciesOf, routeAlert } from './routing.ts';
import { subjectOf } from './silence-model.ts';
import type { SilenceStore } from './silence-store.ts';
import { withEntry, type AlertWorkflow, type Outcome } from './workflow-model.ts';
import { isOffHours } from './working-hours.ts';

/**
 * The handling workflow over the alerts engine: routing on raise, then firing -> acknowledged -> inProgress
 * -> resolved (with an outcome), reassignment, SOP steps ticked off. Every change is one event in the
 * alert's history (engine.amend), so it is stored with the alert and survives a restart. Who may act:
 * members of the alert's agency, the person it is assigned to, and accounts holding the IOC duty role.
 * Plain functions over the engine: no HTTP here; api/alert-workflow-routes.ts is the glue.
 */
export interface Actor {
  readonly name: string;
  readonly iocDuty: boolean;
}
export type Scope = 'mine' | 'agency' | 'all';

export interface WorkflowLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface WorkflowDeps {
  readonly alerts: AlertService;
  readonly ops: Operations;
  readonly silences: SilenceStore;
  readonly clock: Clock;
  readonly logger: WorkflowLogger;
  /** counts alerts a maintenance window held back, and refusals (/metrics) */
  readonly count?: (what: 'held_no_data' | 'silenced' | 'refused') => void;
}

export interface WorkflowService {
  readonly raiseHook: RaiseHook;
  acknowledge(id: string, actor: Actor, note?: string): Promise<Alert>;
  start(id: string, actor: Actor, note?: string): Promise<Alert>;
  resolve(id: string, actor: Actor, outcome: Outcome, note?: string): Promise<Alert>;
  assign(id: string, actor: Actor, to: { agencyId?: string; assignee?: string }, note: string): Promise<Alert>;
  tickStep(id: string, actor: Actor, stepId: string): Promise<Alert>;
  /** the procedure for the alert's type in `lang`, if the city wrote one */
  sopOf(alert: Pick<Alert, 'subCategory'>, lang: 'vi' | 'en'): Sop | undefined;
  inScope(alert: Alert, actor: Actor, scope: Scope): boolean;
  canAct(alert: Alert, actor: Actor): boolean;
}

const conflict = (code: string, message: string) => new DomainError('conflict', code, message);

export function createWorkflowService(deps: WorkflowDeps): WorkflowService {
  const { alerts, ops, silences, clock, logger } = deps;
  const memberOf = (actor: Actor, agencyId: string): boolean =>
    ops.agenciesById.get(agencyId)?.members.includes(actor.name) === true;

  const canAct = (alert: Alert, actor: Actor): boolean => {
    if (actor.iocDuty) return true;
    const w = alert.workflow;
    return w !== undefined && (w.assignee === actor.name || memberOf(actor, w.agencyId));
  };

  /** the alert's workflow, for alerts raised before the workflow existed: routed now */
  const workflowOf = (alert: Alert): AlertWorkflow =>
    alert.workflow ?? newWorkflow(alert, routeAlert(ops, alert, alerts.rules.get(alert.ruleId)), clock.now());

  const guard = (alert: Alert, actor: Actor, action: string): void => {
    if (canAct(alert, actor)) return;
    deps.count?.('refused');
    // one line per refusal: an operator trying another agency's alert is worth knowing, and rare
    logger.warn(
      { alertId: alert.id, by: actor.name, agencyId: alert.workflow?.agencyId, action },
      "workflow action refused: not the alert's agency",
    );
    throw new DomainError(
      'forbidden',
      'not_your_agency',
      `${actor.name} is not a member of ${alert.workflow?.agencyId ?? 'the agency'} responsible for ` +
        `alert ${alert.id}, nor assigned to it, nor on IOC duty`,
    );
  };

  const current = async (id: string): Promise<Alert> => {
    const alert = await alerts.get(id);
    if (!alert) throw new DomainError('not_found', 'alert_not_found', `no alert ${id}`);
    return alert;
  };

  const ensureOpen = (a: Alert): void => {
    if (a.state === 'resolved') throw conflict('alert_resolved', `alert ${a.id} is already resolved`);
    if (a.state === 'pending')
      throw conflict('alert_pending', `alert ${a.id} is pending; it can be handled once it fires`);
  };

  const raiseHook: RaiseHook = (alert, { rule, aboutDevice }) => {
    const now = clock.now();
    const subject = subjectOf(alert, rule.type);
    if (aboutDevice && silences.activeFor(subject, now, true)) {
      deps.count?.('held_no_data');
      logger.info(
        { sensorId: alert.sensorId, ruleId: alert.ruleId },
        'device under maintenance: no-data alert not raised',
      );
      return undefined;
    }
    const routed = routeAlert(ops, alert, rule);
    let workflow = newWorkflow(alert, routed, now, isOffHours(ops, routed.agencyId, now));
    const silence = silences.activeFor(subject, now);
    if (silence) {
      deps.count?.('silenced');
      const until = silences.windowEnd(silence.id, now);
      workflow = withEntry(
        { ...workflow, silence: { id: silence.id, reason: silence.reason, ...(until !== undefined ? { until } : {}) } },
        { at: now, by: 'system', action: 'silenced', note: silence.reason },
      );
    }
    return { ...alert, workflow };
  };

  return {
    raiseHook,
    canAct,
    async acknowledge(id, actor, note) {
      guard(await current(id), actor, 'acknowledge');
      return alerts.amend(id, 'acknowledged', (a) => {
        ensureOpen(a);
        if (a.state !== 'firing')
          throw conflict('alert_acknowledged', `alert ${id} was already acknowledged by ${a.acknowledgedBy}`);
        const now = clock.now();
        const w = workflowOf(a);
        return {
          ...a,
          state: 'acknowledged',
          acknowledgedAt: now,
          acknowledgedBy: actor.name,
          updatedAt: now,
          ...(note ? { ackNote: note } : {}),
          // the acknowledge ladder stops; the resolve ladder starts from the bottom
          workflow: withEntry(
            { ...w, escalation: { phase: 'resolve', level: 0 } },
            { at: now, by: actor.name, action: 'acknowledged', ...(note ? { note } : {}) },
          ),
        };
      });
    },
    async start(id, actor, note) {
      guard(await current(id), actor, 'start');
      return alerts.amend(id, 'workflow', (a) => {
        ensureOpen(a);
        if (a.state === 'firing')
          throw conflict('alert_not_acknowledged', `alert ${id} must be acknowledged before work starts`);
        if (a.state === 'inProgress')
          throw conflict('alert_in_progress', `work on alert ${id} was already started by ${a.workflow?.inProgressBy}`);
        const now = clock.now();
        const w = workflowOf(a);
        return {
          ...a,
          state: 'inProgress',
          updatedAt: now,
          workflow: withEntry(
            { ...w, inProgressAt: now, inProgressBy: actor.name },
            { at: now, by: actor.name, action: 'inProgress', ...(note ? { note } : {}) },
          ),
        };
      });
    },
    async resolve(id, actor, outcome, note) {
      const alert = await current(id);
      guard(alert, actor, 'resolve');
      ensureOpen(alert);
      return alerts.resolve(id, actor.name, note, (a) => {
        const w = workflowOf(a);
        return {
          ...a,
          workflow: withEntry(
            { ...w, outcome },
            { at: a.resolvedAt ?? clock.now(), by: actor.name, action: 'resolved', outcome, ...(note ? { note } : {}) },
          ),
        };
      });
    },
    async assign(id, actor, to, note) {
      guard(await current(id), actor, 'assign');
      if (to.agencyId !== undefined && !ops.agenciesById.has(to.agencyId))
        throw new DomainError(
          'invalid',
          'unknown_agency',
          `no agency "${to.agencyId}" (known: ${[...ops.agenciesById.keys()].join(', ')})`,
        );
      return alerts.amend(id, 'workflow', (a) => {
        if (a.state === 'resolved') throw conflict('alert_resolved', `alert ${id} is already resolved`);
        const now = clock.now();
        const w = workflowOf(a);
        const agencyId = to.agencyId ?? w.agencyId;
        const next: AlertWorkflow = { ...w, agencyId, route: to.agencyId !== undefined ? 'manual' : w.route };
        if (to.assignee !== undefined) next.assignee = to.assignee;
        else if (to.agencyId !== undefined) delete next.assignee;
        return {
          ...a,
          updatedAt: now,
          workflow: withEntry(next, {
            at: now,
            by: actor.name,
            action: 'reassigned',
            agencyId,
            ...(next.assignee ? { assignee: next.assignee } : {}),
            note,
          }),
        };
      });
    },
    async tickStep(id, actor, stepId) {
      const alert = await current(id);
      guard(alert, actor, 'step');
      const sop = ops.sops.en[alert.subCategory];
      if (!sop)
        throw new DomainError('not_found', 'sop_not_found', `no procedure for alert type "${alert.subCategory}"`);
      if (!sop.steps.some((s) => s.id === stepId))
        throw new DomainError(
          'invalid',
          'unknown_step',
          `no step "${stepId}" in the procedure for "${alert.subCategory}" ` +
            `(steps: ${sop.steps.map((s) => s.id).join(', ')})`,
        );
      return alerts.amend(id, 'workflow', (a) => {
        ensureOpen(a);
        const w = workflowOf(a);
        const done = w.steps.find((s) => s.stepId === stepId);
        if (done) throw conflict('step_done', `step "${stepId}" was already ticked off by ${done.by}`);
        const now = clock.now();
        return {
          ...a,
          updatedAt: now,
          workflow: withEntry(
            { ...w, steps: [...w.steps, { stepId, by: actor.name, at: now }] },
            { at: now, by: actor.name, action: 'stepDone', stepId },
          ),
        };
      });
    },
    sopOf: (alert, lang) => ops.sops[lang][alert.subCategory],
    inScope(alert, actor, scope) {
      if (scope === 'all') return true;
      const w = alert.workflow;
      if (!w) return false;
      if (scope === 'mine') return w.assignee === actor.name;
      return agenciesOf(ops, actor.name).some((a) => a.id === w.agencyId);
    },
  };
}

function newWorkflow(
  _alert: Alert,
  routed: { agencyId: string; route: string },
  now: number,
  offHours = false,
): AlertWorkflow {
  const assigned = { at: now, by: 'system', action: 'assigned', agencyId: routed.agencyId } as const;
  return {
    agencyId: routed.agencyId,
    route: routed.route,
    steps: [],
    escalation: { phase: 'acknowledge', level: 0 },
    log: [{ ...assigned, note: `route ${routed.route}`, ...(offHours ? { offHours } : {}) }],
  };
}
