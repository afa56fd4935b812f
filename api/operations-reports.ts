import type { FastifyPluginAsync } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { createHandoverService, type HandoverDeps, type HandoverService } from '../alerts/handover/handover-service.ts';
import { createPublicSummary, type PublicSummaryDeps } from '../alerts/kpi/public-summary.ts';
import type { Clock } from '../core/clock.ts';
import type { Operations } from '../config/operations-config.ts';
import type { ReportsConfig } from '../config/reports-config.ts';
import { handoverRoutes } from './handover-routes.ts';
import { kpiRoutes, type KpiRoutesDeps } from './kpi-routes.ts';
import { publicRoutes } from './public-summary-routes.ts';

/**
 * Issue 16 items 5 and 7 in one place for platform.ts: the operators' KPI API, the public summary and
 * page, the shift handover report (on demand and on its schedule), and what has to stop with the platform.
 */
export interface OperationsReportsDeps {
  readonly alerts: PublicSummaryDeps['alerts'] & KpiRoutesDeps['alerts'] & HandoverDeps['alerts'];
  readonly ops: Operations;
  readonly clock: Clock;
  readonly publish: PublicSummaryDeps['publish'];
  readonly silences: HandoverDeps['silences'];
  /** devices offline now, with since when */
  readonly offline: HandoverDeps['offline'];
  readonly reports: ReportsConfig;
  readonly logger: HandoverDeps['logger'];
  readonly registry?: Registry;
}

export interface OperationsReports {
  readonly routes: FastifyPluginAsync[];
  readonly handover: HandoverService;
  stop(): void;
}

export function createOperationsReports(deps: OperationsReportsDeps): OperationsReports {
  const { alerts, ops, clock } = deps;
  const summary = createPublicSummary({ alerts, ops, publish: deps.publish, now: () => clock.now() });
  const counter = new Counter({
    name: 'ioc_handover_reports_total',
    help: 'Shift handover reports made on schedule, posted to the webhook, or not delivered',
    labelNames: ['what'],
    registers: deps.registry ? [deps.registry] : [],
  });
  const hook = deps.reports.handover.webhook;
  const handover = createHandoverService({
    alerts,
    ops,
    clock,
    silences: deps.silences,
    offline: deps.offline,
    logger: deps.logger,
    ...(deps.reports.handover.schedule ? { schedule: deps.reports.handover.schedule } : {}),
    ...(hook ? { webhook: hook } : {}),
    count: (what) => counter.inc({ what }),
  });
  handover.start();
  return {
    routes: [
      kpiRoutes({ alerts, ops, clock }),
      publicRoutes({ summary }),
      handoverRoutes({ handover, clock, timezone: ops.timezone }),
    ],
    handover,
    stop() {
      summary.close();
      handover.stop();
    },
  };
}

/** the city's devices the state tracker holds offline, with since when (the handover report's list) */
export function offlineDevices(
  sensors: ReadonlyArray<{ id: string }>,
  states: { get(id: string): { status: string; statusSince?: number } | undefined },
): Array<{ sensorId: string; since?: number }> {
  return sensors.flatMap((s) => {
    const st = states.get(s.id);
    return st?.status === 'offline'
      ? [{ sensorId: s.id, ...(st.statusSince !== undefined ? { since: st.statusSince } : {}) }]
      : [];
  });
}
