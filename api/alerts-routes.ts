import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Alert } from '../alerts/alert-model.ts';
import type { AlertFilter, AlertService } from '../alerts/alert-service-api.ts';
import { SEVERITIES, splitList } from '../alerts/delivery/alert-filter.ts';
import type { City } from '../config/city-config.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/domain-error.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import { allow, principalOf, type AuthGuard } from './auth.ts';
import { ALERT_STATES, alertBody, parseTimeParam, presentAlert, queryList } from './alerts-schemas.ts';
import { errorBody } from './errors.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { recordRequest } from './audit-http.ts';
import { OUTCOMES, type Outcome } from '../alerts/workflow/workflow-model.ts';
import type { WorkflowService } from '../alerts/workflow/workflow-service.ts';
import { actorOf, auditedAction } from './alert-workflow-routes.ts';

export interface AlertsRoutesDeps {
  alerts: AlertService;
  store: TimeSeriesStore;
  city: City;
  guard: AuthGuard;
  clock: Clock;
  /** waits until everything acknowledged so far is queryable (read-your-writes), when the store lags */
  readBarrier?: () => Promise<void>;
  audit?: AuditRecorder;
  /** the handling workflow: ack and resolve go through it (agency check, outcome), lists take `scope` */
  workflow?: { service: WorkflowService; isOnDuty(account: string): boolean };
}

const MAX_LIST = 1000;
const MAX_READINGS = 5000;

function listOf<T extends string>(
  raw: string | string[] | undefined,
  allowed: readonly T[],
  name: string,
): T[] | undefined {
  const values = splitList(raw);
  if (!values) return undefined;
  const bad = values.filter((v) => !(allowed as readonly string[]).includes(v));
  if (bad.length)
    throw new DomainError(
      'invalid',
      `invalid_${name}`,
      `${name}: unknown value "${bad[0]}"; use ${allowed.join(', ')}`,
    );
  return values as T[];
}

// nullish: a POST with no body at all arrives as null.
const noteBody = z
  .object({ note: z.string().trim().min(1).max(2000).optional() })
  .strict()
  .nullish();
const resolveBody = z
  .object({
    note: z.string().trim().min(1).max(2000).optional(),
    outcome: z.enum(OUTCOMES).optional().describe('handled (default), falseAlarm, duplicate, deviceFault'),
  })
  .strict()
  .nullish();

/** REST for alerts: list with filters, one alert with the readings around it, acknowledge, resolve. */
export const alertsRoutes =
  (deps: AlertsRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const { alerts, store, clock } = deps;
    const api = app.withTypeProvider<ZodTypeProvider>();
    const find = async (id: string): Promise<Alert> => {
      const alert = await alerts.get(id);
      if (!alert) throw new DomainError('not_found', 'alert_not_found', `no alert "${id}"`);
      return alert;
    };

    api.get(
      '/api/alerts',
      {
        config: allow('viewer'),
        schema: {
          tags: ['alerts'],
          summary: 'Alerts, newest first, filtered by state, severity, kind, district, sensor and time',
          description:
            'Lists take comma-separated or repeated values. from: alerts updated at or after; to: alerts that ' +
            'started before (ISO-8601 or epoch ms).',
          querystring: z.object({
            state: queryList,
            severity: queryList,
            kind: queryList,
            district: queryList,
            sensorId: z.string().optional(),
            scope: z
              .enum(['mine', 'agency', 'all'])
              .default('all')
              .describe("mine: assigned to me; agency: my agencies' alerts; all"),
            agency: queryList.describe('alerts of these agencies'),
            from: z.string().optional(),
            to: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(MAX_LIST).default(200),
          }),
          response: { 200: z.object({ alerts: z.array(alertBody) }), 400: errorBody, 401: errorBody },
        },
      },
      async (request) => {
        const q = request.query;
        const from = parseTimeParam(q.from, 'from');
        const to = parseTimeParam(q.to, 'to');
        if (from !== undefined && to !== undefined && from >= to)
          throw new DomainError('invalid', 'invalid_range', 'from must be before to');
        const filter: AlertFilter = {
          state: listOf(q.state, ALERT_STATES, 'state'),
          severity: listOf(q.severity, SEVERITIES, 'severity'),
          kind: splitList(q.kind),
          district: splitList(q.district),
          sensorId: q.sensorId,
          from,
          to,
          limit: q.limit,
        };
        const wf = deps.workflow;
        const agencies = splitList(q.agency);
        const narrowed = wf && (q.scope !== 'all' || agencies);
        // narrowing happens after the engine's limit would cut: ask for the most, then cut
        const found = await alerts.list(narrowed ? { ...filter, limit: MAX_LIST * 5 } : filter);
        if (!narrowed) return { alerts: found.map(presentAlert) };
        const me = actorOf(request, wf.isOnDuty);
        const kept = found.filter(
          (a) => wf.service.inScope(a, me, q.scope) && (!agencies || agencies.includes(a.workflow?.agencyId ?? '')),
        );
        return { alerts: kept.slice(0, q.limit).map(presentAlert) };
      },
    );

    api.get(
      '/api/alerts/:id',
      {
        config: allow('viewer'),
        schema: {
          tags: ['alerts'],
          summary: 'One alert, with the readings of its metric around the time it started',
          description:
            'window: how far before and after the start to include ' +
            'readings (a duration in minutes, default 60, at most 1440).',
          params: z.object({ id: z.string().min(1).max(128) }),
          querystring: z.object({ window: z.coerce.number().int().min(1).max(1440).default(60) }),
          response: {
            200: z.object({
              alert: alertBody,
              readings: z
                .object({
                  sensorId: z.string(),
                  metric: z.string(),
                  unit: z.string().optional(),
                  from: z.number(),
                  to: z.number(),
                  points: z.array(z.object({ ts: z.number(), value: z.number() })),
                })
                .nullable(),
            }),
            401: errorBody,
            404: errorBody,
          },
        },
      },
      async (request) => {
        const alert = await find(request.params.id);
        if (!alert.metric) return { alert: presentAlert(alert), readings: null };
        const around = request.query.window * 60_000;
        const from = alert.startsAt - around;
        const to = Math.max(from + 1, Math.min(clock.now() + 1, alert.startsAt + around));
        await deps.readBarrier?.();
        const points = await store.queryRange({
          measurement: alert.kind,
          sensorId: alert.sensorId,
          field: alert.metric,
          from,
          to,
          limit: MAX_READINGS,
        });
        const unit = alert.unit ?? deps.city.kinds.get(alert.kind)?.metrics[alert.metric]?.unit;
        return {
          alert: presentAlert(alert),
          readings: {
            sensorId: alert.sensorId,
            metric: alert.metric,
            unit,
            from,
            to,
            points: points.map((p) => ({ ts: p.ts, value: p.value })),
          },
        };
      },
    );

    for (const action of ['ack', 'resolve'] as const) {
      api.post(
        `/api/alerts/:id/${action}`,
        {
          config: allow('operator'),
          schema: {
            tags: ['alerts'],
            summary: action === 'ack' ? 'Acknowledge an alert (someone is on it)' : 'Resolve an alert by hand',
            description:
              'Body (optional): { "note": "..." }. The operator is the ' +
              "token's user. 409 when the alert is already resolved" +
              (action === 'ack' ? ' or still pending.' : '.'),
            params: z.object({ id: z.string().min(1).max(128) }),
            body: action === 'ack' ? noteBody : resolveBody,
            response: {
              200: z.object({ alert: alertBody }),
              400: errorBody,
              401: errorBody,
              403: errorBody,
              404: errorBody,
              409: errorBody,
            },
          },
        },
        async (request) => {
          const by = principalOf(request)?.name ?? 'operator';
          const note = request.body?.note;
          const wf = deps.workflow;
          if (wf) {
            const me = actorOf(request, wf.isOnDuty);
            const id = request.params.id;
            const body = request.body as { outcome?: Outcome } | null | undefined;
            const outcome: Outcome = body?.outcome ?? 'handled';
            const before = await alerts.get(id);
            const alert =
              action === 'ack'
                ? await auditedAction(
                    deps.audit,
                    request,
                    'alert.acknowledge',
                    id,
                    () => wf.service.acknowledge(id, me, note),
                    note ? { note } : {},
                    before,
                  )
                : await auditedAction(
                    deps.audit,
                    request,
                    'alert.resolve',
                    id,
                    () => wf.service.resolve(id, me, outcome, note),
                    { outcome, ...(note ? { note } : {}) },
                    before,
                  );
            return { alert: presentAlert(alert) };
          }
          const before = (await alerts.get(request.params.id))?.state;
          const alert =
            action === 'ack'
              ? await alerts.acknowledge(request.params.id, by, note)
              : await alerts.resolve(request.params.id, by, note);
          await recordRequest(deps.audit, request, {
            action: action === 'ack' ? 'alert.acknowledge' : 'alert.resolve',
            target: alert.id,
            details: { before: { state: before }, after: { state: alert.state }, ...(note ? { note } : {}) },
          });
          return { alert: presentAlert(alert) };
        },
      );
    }
  };
