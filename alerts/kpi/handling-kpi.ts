import type { Operations } from '../../config/operations-config.ts';
import type { Alert } from '../alert-model.ts';

/**
 * Processing time, openly (issue 16 item 5): time to acknowledge and time to resolve, counted from the
 * moment an alert fired, for the alerts that fired in a period, grouped by agency, alert type, rule, rule
 * type, district or severity. Percentiles are nearest-rank (a value someone actually waited), so a figure
 * can be traced to an alert. "Within target" uses the escalation targets of operations.yaml: an alert
 * still unacknowledged (or unresolved) after its target at the end of the period counts as a miss, so
 * leaving alerts untouched cannot improve the share. Resolutions by the rule itself ("system": the
 * condition cleared) measure no one's work and are left out of time to resolve; they are counted apart.
 */
export const GROUP_BY = ['agency', 'subCategory', 'rule', 'ruleType', 'district', 'severity'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface DurationStats {
  readonly count: number;
  readonly medianMs: number | null;
  readonly p90Ms: number | null;
  /** measured against the target: met / (met + missed); null when no alert had a target */
  readonly withinTarget: number | null;
  readonly met: number;
  readonly missed: number;
}

export interface KpiGroup {
  readonly key: string;
  readonly alerts: number;
  readonly open: number;
  readonly autoResolved: number;
  readonly acknowledge: DurationStats;
  readonly resolve: DurationStats;
}

export interface HandlingKpi {
  readonly from: number;
  readonly to: number;
  readonly groupBy: GroupBy;
  readonly total: KpiGroup;
  readonly groups: readonly KpiGroup[];
}

export interface KpiInput {
  readonly alerts: readonly Alert[];
  readonly ops: Pick<Operations, 'escalation'>;
  readonly from: number;
  readonly to: number;
  readonly groupBy: GroupBy;
  /** the rule type of a rule id (rules may have been removed since: then "unknown") */
  readonly ruleTypeOf: (ruleId: string) => string | undefined;
  /** now: alerts still open are judged against their target up to min(now, to) */
  readonly now: number;
}

/** nearest-rank percentile of sorted values */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const keyOf = (a: Alert, by: GroupBy, ruleTypeOf: KpiInput['ruleTypeOf']): string => {
  switch (by) {
    case 'agency':
      return a.workflow?.agencyId ?? 'unrouted';
    case 'subCategory':
      return a.subCategory;
    case 'rule':
      return a.ruleId;
    case 'ruleType':
      return ruleTypeOf(a.ruleId) ?? 'unknown';
    case 'district':
      return a.district;
    case 'severity':
      return a.severity;
  }
};

interface Tally {
  times: number[];
  met: number;
  missed: number;
}
const tally = (): Tally => ({ times: [], met: 0, missed: 0 });

function judge(t: Tally, took: number | undefined, waited: number, target: number | undefined): void {
  if (took !== undefined) t.times.push(took);
  if (target === undefined) return;
  if (took !== undefined) {
    if (took <= target) t.met++;
    else t.missed++;
  } else if (waited > target) t.missed++;
}

function stats(t: Tally): DurationStats {
  const sorted = [...t.times].sort((a, b) => a - b);
  const judged = t.met + t.missed;
  return {
    count: sorted.length,
    medianMs: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    withinTarget: judged ? t.met / judged : null,
    met: t.met,
    missed: t.missed,
  };
}

export function computeHandlingKpi(input: KpiInput): HandlingKpi {
  const { from, to, groupBy, ops } = input;
  const end = Math.min(to, input.now);
  const acc = new Map<string, { alerts: number; open: number; auto: number; ack: Tally; res: Tally }>();
  const bucket = (key: string) => {
    let b = acc.get(key);
    if (!b) {
      b = { alerts: 0, open: 0, auto: 0, ack: tally(), res: tally() };
      acc.set(key, b);
    }
    return b;
  };
  for (const a of input.alerts) {
    const firedAt = a.firingAt;
    if (firedAt === undefined || firedAt < from || firedAt >= to) continue;
    const target = ops.escalation[a.severity];
    for (const b of [bucket(keyOf(a, groupBy, input.ruleTypeOf)), bucket('\u0000total')]) {
      b.alerts++;
      const ackAt = a.acknowledgedAt !== undefined && a.acknowledgedAt <= end ? a.acknowledgedAt : undefined;
      const resAt = a.resolvedAt !== undefined && a.resolvedAt <= end ? a.resolvedAt : undefined;
      if (resAt === undefined) b.open++;
      const auto = resAt !== undefined && a.resolvedBy === 'system';
      if (auto) b.auto++;
      // an alert the rule cleared before anyone acknowledged it was nobody's to acknowledge
      if (!(auto && ackAt === undefined))
        judge(b.ack, ackAt === undefined ? undefined : ackAt - firedAt, end - firedAt, target?.acknowledge);
      if (!auto) judge(b.res, resAt === undefined ? undefined : resAt - firedAt, end - firedAt, target?.resolve);
    }
  }
  const present = (key: string, b: NonNullable<ReturnType<typeof acc.get>>): KpiGroup => ({
    key,
    alerts: b.alerts,
    open: b.open,
    autoResolved: b.auto,
    acknowledge: stats(b.ack),
    resolve: stats(b.res),
  });
  const total = acc.get('\u0000total');
  acc.delete('\u0000total');
  const empty = { alerts: 0, open: 0, auto: 0, ack: tally(), res: tally() };
  return {
    from,
    to,
    groupBy,
    total: present('total', total ?? empty),
    groups: [...acc.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, b]) => present(k, b)),
  };
}
