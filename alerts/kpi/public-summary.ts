import type { EventEmitter } from 'node:events';
import type { Operations } from '../../config/operations-config.ts';
import type { Alert, AlertEvent } from '../alert-model.ts';
import { startOfMonth, startOfWeek } from './city-time.ts';
import { computeHandlingKpi, type DurationStats } from './handling-kpi.ts';

/**
 * What the city publishes about its own handling (issue 16 item 5), with no login: open incidents by
 * district and alert type, handling times this week and this month, and the share handled within target,
 * each part only when `public.publish` says so. Built from counts and durations only: no account names,
 * notes, tokens or alert texts ever enter it, and sensor ids only when the city publishes them. The last
 * summary is kept until an alert changes or the minute turns (open alerts age), so a crowd reloading the
 * page costs one build per change; one entry, so it is bounded.
 */
export interface PublishConfig {
  readonly openIncidents: boolean;
  readonly handlingTimes: boolean;
  readonly withinTarget: boolean;
  readonly sensorIds: boolean;
}

export interface PeriodFigures {
  readonly from: number;
  readonly alerts: number;
  readonly acknowledge: { medianMinutes: number | null; p90Minutes: number | null; withinTarget?: number | null };
  readonly resolve: { medianMinutes: number | null; p90Minutes: number | null; withinTarget?: number | null };
}

export interface PublicSummary {
  readonly generatedAt: number;
  readonly timezone: string;
  readonly openIncidents?: Array<{ district: string; type: string; count: number; sensorIds?: string[] }>;
  readonly week?: PeriodFigures;
  readonly month?: PeriodFigures;
}

export interface PublicSummaryDeps {
  readonly alerts: {
    list(f: { from: number; to: number; limit: number }): Promise<Alert[]>;
    open(): Alert[];
    bus: EventEmitter<{ alert: [AlertEvent] }>;
    rules: { get(id: string): { type: string } | undefined };
  };
  readonly ops: Pick<Operations, 'escalation' | 'timezone'>;
  readonly publish: PublishConfig;
  readonly now: () => number;
}

/** at most this many alerts are read for a month's figures: bounds the work a public request can cause */
export const MAX_ALERTS = 20_000;
const minutes = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 6_000) / 10);

export function createPublicSummary(deps: PublicSummaryDeps): {
  get(): Promise<PublicSummary>;
  close(): void;
  builds(): number;
} {
  const { alerts, ops, publish } = deps;
  let version = 0;
  let built = 0;
  let cached: { version: number; minute: number; value: Promise<PublicSummary> } | undefined;
  const onAlert = (): void => {
    version++;
  };
  alerts.bus.on('alert', onAlert);

  const figures = (from: number, list: readonly Alert[], now: number): PeriodFigures => {
    const k = computeHandlingKpi({
      alerts: list,
      ops,
      from,
      to: now + 1,
      now,
      groupBy: 'severity',
      ruleTypeOf: (id) => alerts.rules.get(id)?.type,
    });
    const part = (s: DurationStats) => ({
      medianMinutes: publish.handlingTimes ? minutes(s.medianMs) : null,
      p90Minutes: publish.handlingTimes ? minutes(s.p90Ms) : null,
      ...(publish.withinTarget ? { withinTarget: s.withinTarget } : {}),
    });
    return { from, alerts: k.total.alerts, acknowledge: part(k.total.acknowledge), resolve: part(k.total.resolve) };
  };

  const build = async (now: number): Promise<PublicSummary> => {
    built++;
    const summary: { -readonly [K in keyof PublicSummary]: PublicSummary[K] } = {
      generatedAt: now,
      timezone: ops.timezone,
    };
    if (publish.openIncidents) {
      const groups = new Map<string, { district: string; type: string; count: number; sensors: Set<string> }>();
      for (const a of alerts.open()) {
        if (a.state === 'pending') continue;
        const key = `${a.district}\u0000${a.subCategory}`;
        const g = groups.get(key) ?? {
          district: a.district,
          type: a.subCategory,
          count: 0,
          sensors: new Set<string>(),
        };
        g.count++;
        g.sensors.add(a.sensorId);
        groups.set(key, g);
      }
      summary.openIncidents = [...groups.values()]
        .sort((a, b) => b.count - a.count || a.district.localeCompare(b.district) || a.type.localeCompare(b.type))
        .map((g) => ({
          district: g.district,
          type: g.type,
          count: g.count,
          ...(publish.sensorIds ? { sensorIds: [...g.sensors].sort() } : {}),
        }));
    }
    if (publish.handlingTimes || publish.withinTarget) {
      const week = startOfWeek(now, ops.timezone);
      const month = startOfMonth(now, ops.timezone);
      const from = Math.min(week, month);
      const list = await alerts.list({ from, to: now + 1, limit: MAX_ALERTS });
      summary.week = figures(week, list, now);
      summary.month = figures(month, list, now);
    }
    return summary;
  };

  return {
    get() {
      const now = deps.now();
      const minute = Math.floor(now / 60_000);
      if (cached && cached.version === version && cached.minute === minute) return cached.value;
      const value = build(now);
      cached = { version, minute, value };
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
      return value;
    },
    close() {
      alerts.bus.off('alert', onAlert);
    },
    builds: () => built,
  };
}
