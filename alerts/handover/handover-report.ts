import type { Operations } from '../../config/operations-config.ts';
import type { Alert, I18nText } from '../alert-model.ts';
import { computeHandlingKpi, type KpiGroup } from '../kpi/handling-kpi.ts';

/**
 * The shift handover report (issue 16 item 7): what happened during a shift and what the next one takes
 * over. For operators (it names who acknowledged), never published. Built from plain data so the cron
 * job, the API and the console page show the same thing.
 */
export interface HandoverInput {
  readonly from: number;
  readonly to: number;
  readonly now: number;
  /** alerts that changed in the shift (the engine's list over from..to) */
  readonly alerts: readonly Alert[];
  /** alerts open now */
  readonly open: readonly Alert[];
  readonly silences: Array<{ id: string; reason: string; match: unknown; until?: number; maintenance?: boolean }>;
  readonly offline: Array<{ sensorId: string; since?: number }>;
  readonly ops: Operations;
  readonly ruleTypeOf: (ruleId: string) => string | undefined;
}

export interface OpenItem {
  readonly id: string;
  readonly title: I18nText;
  readonly severity: string;
  readonly state: string;
  readonly agencyId?: string;
  readonly assignee?: string;
  readonly district: string;
  readonly sensorId: string;
  readonly firingAt?: number;
  readonly acknowledgedBy?: string;
  readonly escalationLevel: number;
  readonly silenced: boolean;
}

export interface HandoverReport {
  readonly from: number;
  readonly to: number;
  readonly generatedAt: number;
  readonly timezone: string;
  readonly alertsByType: Array<{ type: string; count: number }>;
  readonly alertsByAgency: Array<{ agencyId: string; name: I18nText; count: number }>;
  readonly handling: KpiGroup;
  readonly stillOpen: OpenItem[];
  readonly silences: HandoverInput['silences'];
  readonly devices: {
    readonly offline: HandoverInput['offline'];
    readonly unhealthy: Array<{ sensorId: string; alertId: string; since?: number; message: I18nText }>;
  };
}

/** a report lists at most this many open alerts (the rest are counted): a flood day stays printable */
export const MAX_OPEN_LISTED = 200;
export const DEVICE_HEALTH_KIND = 'device-health';

const countBy = <T>(items: readonly T[], key: (t: T) => string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
};

export function buildHandoverReport(input: HandoverInput): HandoverReport {
  const { ops, from, to } = input;
  // alerts of the shift: those that fired in it
  const fired = input.alerts.filter((a) => a.firingAt !== undefined && a.firingAt >= from && a.firingAt < to);
  const byType = countBy(fired, (a) => a.subCategory);
  const byAgency = countBy(fired, (a) => a.workflow?.agencyId ?? ops.dutyDesk);
  const kpi = computeHandlingKpi({
    alerts: input.alerts,
    ops,
    from,
    to,
    now: input.now,
    groupBy: 'agency',
    ruleTypeOf: input.ruleTypeOf,
  });
  const open = input.open
    .filter((a) => a.state !== 'pending' && a.state !== 'resolved')
    .sort((a, b) => (a.firingAt ?? a.startsAt) - (b.firingAt ?? b.startsAt));
  return {
    from,
    to,
    generatedAt: input.now,
    timezone: ops.timezone,
    alertsByType: [...byType]
      .map(([type, count]) => ({ type, count }))
      .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
    alertsByAgency: [...byAgency]
      .map(([agencyId, count]) => ({
        agencyId,
        name: ops.agenciesById.get(agencyId)?.name ?? { vi: agencyId, en: agencyId },
        count,
      }))
      .sort((a, b) => b.count - a.count || a.agencyId.localeCompare(b.agencyId)),
    handling: kpi.total,
    stillOpen: open.slice(0, MAX_OPEN_LISTED).map((a) => ({
      id: a.id,
      title: a.title,
      severity: a.severity,
      state: a.state,
      district: a.district,
      sensorId: a.sensorId,
      ...(a.workflow ? { agencyId: a.workflow.agencyId } : {}),
      ...(a.workflow?.assignee ? { assignee: a.workflow.assignee } : {}),
      ...(a.firingAt !== undefined ? { firingAt: a.firingAt } : {}),
      ...(a.acknowledgedBy ? { acknowledgedBy: a.acknowledgedBy } : {}),
      escalationLevel: a.workflow?.escalation.level ?? 0,
      silenced: a.workflow?.silence !== undefined,
    })),
    silences: input.silences,
    devices: {
      offline: input.offline,
      unhealthy: open
        .filter((a) => input.ruleTypeOf(a.ruleId) === DEVICE_HEALTH_KIND)
        .map((a) => ({
          sensorId: a.sensorId,
          alertId: a.id,
          ...(a.firingAt !== undefined ? { since: a.firingAt } : {}),
          message: a.message,
        })),
    },
  };
}
