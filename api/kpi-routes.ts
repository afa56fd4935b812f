import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Alert } from '../alerts/alert-model.ts';
import { parseCityTime, startOfWeek } from '../alerts/kpi/city-time.ts';
import { computeHandlingKpi, GROUP_BY } from '../alerts/kpi/handling-kpi.ts';
import { MAX_ALERTS } from '../alerts/kpi/public-summary.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/domain-error.ts';
import type { Operations } from '../config/operations-config.ts';
import { allow } from './auth.ts';
import { noteDeprecation } from './deprecation-headers.ts';
import { errorBody } from './errors.ts';

/** Processing times for operators (alerts/kpi/handling-kpi.ts); the console's KPI dashboard reads this. */
export interface KpiRoutesDeps {
  alerts: {
    list(f: { from: number; to: number; limit: number }): Promise<Alert[]>;
    rules: { get(id: string): { type: string } | undefined };
  };
  ops: Operations;
  clock: Clock;
}

/** `groupBy=ruleKind`, from before the rename (docs/names.md): served as ruleType, with a deprecation header */
const DEPRECATED_GROUP_BY = 'ruleKind';
export const GROUP_BY_RULE_KIND_DEPRECATED =
  'groupBy=ruleKind is deprecated: use groupBy=ruleType ("kind" names sensor kinds: air, water, traffic, camera)';

/** a longer period would read too many alerts for one request; ask twice */
const MAX_PERIOD_MS = 366 * 86_400_000;

const durationStats = z.object({
  count: z.number().int(),
  medianMs: z.number().nullable(),
  p90Ms: z.number().nullable(),
  withinTarget: z.number().nullable().describe('met / (met + missed); still-open alerts past their target are missed'),
  met: z.number().int(),
  missed: z.number().int(),
});
const group = z.object({
  key: z.string(),
  alerts: z.number().int(),
  open: z.number().int(),
  autoResolved: z.number().int().describe('cleared by the rule itself: not counted in time to resolve'),
  acknowledge: durationStats,
  resolve: durationStats,
});

export const kpiRoutes =
  (deps: KpiRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const tz = deps.ops.timezone;
    api.get(
      '/api/kpi/handling',
      {
        config: allow('operator'),
        schema: {
          tags: ['workflow'],
          summary:
            'Time to acknowledge and to resolve (median, p90, share within target) for alerts that fired in a period',
          description:
            `from/to: a date (2026-10-15) or time (2026-10-15T07:30) in the city's time zone (${tz}), or ISO ` +
            'with an offset. Default: this week until now.',
          querystring: z.object({
            from: z.string().max(40).optional(),
            to: z.string().max(40).optional(),
            groupBy: z
              .enum([...GROUP_BY, DEPRECATED_GROUP_BY])
              .default('agency')
              .describe(`${DEPRECATED_GROUP_BY}: deprecated name of ruleType (the answer says so in its headers)`),
          }),
          response: {
            200: z.object({
              from: z.number(),
              to: z.number(),
              groupBy: z.enum(GROUP_BY),
              timezone: z.string(),
              total: group,
              groups: z.array(group),
            }),
            400: errorBody,
            401: errorBody,
            403: errorBody,
          },
        },
      },
      async (request, reply) => {
        const now = deps.clock.now();
        const q = request.query;
        const groupBy = q.groupBy === DEPRECATED_GROUP_BY ? 'ruleType' : q.groupBy;
        if (q.groupBy === DEPRECATED_GROUP_BY) noteDeprecation(reply, GROUP_BY_RULE_KIND_DEPRECATED);
        const from = q.from ? parseCityTime(q.from, tz, 'from') : startOfWeek(now, tz);
        const to = q.to ? parseCityTime(q.to, tz, 'to') : now + 1;
        if (to <= from) throw new DomainError('invalid', 'invalid_period', 'to must be after from');
        if (to - from > MAX_PERIOD_MS)
          throw new DomainError('invalid', 'period_too_long', 'a period is at most 366 days; ask for each part');
        const alerts = await deps.alerts.list({ from, to, limit: MAX_ALERTS });
        const kpi = computeHandlingKpi({
          alerts,
          ops: deps.ops,
          from,
          to,
          now,
          groupBy,
          ruleTypeOf: (id) => deps.alerts.rules.get(id)?.type,
        });
        return { ...kpi, timezone: tz, groups: [...kpi.groups] };
      },
    );
  };
