import type { Agency, Operations } from '../../config/operations-config.ts';
import type { Alert } from '../alert-model.ts';
import type { RuleBase } from '../rule-fields.ts';

/**
 * Which agency answers for an alert: the first routing rule that matches (docs/operations-workflow.md),
 * else the duty desk. A rule sending to `{ district: true }` names the agency answering for the alert's
 * district; where there is none, the next rule is tried.
 */
export interface RouteResult {
  readonly agencyId: string;
  readonly route: string;
}

const anyOf = (list: readonly string[] | undefined, value: string | undefined): boolean =>
  list === undefined || (value !== undefined && list.includes(value));

/** a rule's event types, whatever its kind calls for (camera event rules list them) */
function eventTypesOf(rule: RuleBase): readonly string[] {
  const types = (rule as { eventTypes?: unknown }).eventTypes;
  return Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string') : [];
}

export function routeAlert(ops: Operations, alert: Alert, rule: RuleBase | undefined): RouteResult {
  const eventTypes = rule ? eventTypesOf(rule) : [];
  for (const r of ops.routing) {
    const m = r.match;
    if (
      !anyOf(m.rule, alert.ruleId) ||
      !anyOf(m.ruleType, rule?.type) ||
      !anyOf(m.sensorKind, alert.kind) ||
      !anyOf(m.subCategory, alert.subCategory) ||
      !anyOf(m.district, alert.district) ||
      !anyOf(m.severity, alert.severity)
    )
      continue;
    if (m.eventType && !eventTypes.some((t) => m.eventType!.includes(t))) continue;
    if (typeof r.to === 'string') return { agencyId: r.to, route: r.id };
    const local = ops.agencies.find((a) => a.district === alert.district);
    if (local) return { agencyId: local.id, route: r.id };
  }
  return { agencyId: ops.dutyDesk, route: 'default' };
}

/** The agencies an account belongs to. */
export function agenciesOf(ops: Operations, account: string): Agency[] {
  return ops.agencies.filter((a) => a.members.includes(account));
}
