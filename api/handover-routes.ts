import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HandoverService } from '../alerts/handover/handover-service.ts';
import { renderHandoverHtml } from '../alerts/handover/handover-html.ts';
import { parseCityTime } from '../alerts/kpi/city-time.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/domain-error.ts';
import { allow } from './auth.ts';
import { errorBody } from './errors.ts';

/** The shift handover report on demand: JSON, or a printable page with format=html or Accept: text/html. */
export interface HandoverRoutesDeps {
  handover: HandoverService;
  clock: Clock;
  timezone: string;
}

const SHIFT_MS = 8 * 3_600_000;
const MAX_PERIOD_MS = 31 * 86_400_000;
const stats = z.object({
  count: z.number(),
  medianMs: z.number().nullable(),
  p90Ms: z.number().nullable(),
  withinTarget: z.number().nullable(),
  met: z.number(),
  missed: z.number(),
});
const i18n = z.object({ vi: z.string(), en: z.string() });
const reportSchema = z.object({
  from: z.number(),
  to: z.number(),
  generatedAt: z.number(),
  timezone: z.string(),
  alertsByType: z.array(z.object({ type: z.string(), count: z.number() })),
  alertsByAgency: z.array(z.object({ agencyId: z.string(), name: i18n, count: z.number() })),
  handling: z.object({
    key: z.string(),
    alerts: z.number(),
    open: z.number(),
    autoResolved: z.number(),
    acknowledge: stats,
    resolve: stats,
  }),
  stillOpen: z.array(
    z.object({
      id: z.string(),
      title: i18n,
      severity: z.string(),
      state: z.string(),
      agencyId: z.string().optional(),
      assignee: z.string().optional(),
      district: z.string(),
      sensorId: z.string(),
      firingAt: z.number().optional(),
      acknowledgedBy: z.string().optional(),
      escalationLevel: z.number(),
      silenced: z.boolean(),
    }),
  ),
  silences: z.array(
    z.object({
      id: z.string(),
      reason: z.string(),
      match: z.unknown(),
      until: z.number().optional(),
      maintenance: z.boolean().optional(),
    }),
  ),
  devices: z.object({
    offline: z.array(z.object({ sensorId: z.string(), since: z.number().optional() })),
    unhealthy: z.array(
      z.object({ sensorId: z.string(), alertId: z.string(), since: z.number().optional(), message: i18n }),
    ),
  }),
});

export const handoverRoutes =
  (deps: HandoverRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/api/reports/handover',
      {
        config: allow('operator'),
        schema: {
          tags: ['workflow'],
          summary:
            'Shift handover report: alerts by type and agency, handling ' +
            'times, still open, silences, devices offline or unhealthy',
          description:
            `from/to in the city's time zone (${deps.timezone}) or ISO with offset; default the last 8 hours. ` +
            'format=html (or Accept: text/html) gives a printable page; lang=en for English.',
          querystring: z.object({
            from: z.string().max(40).optional(),
            to: z.string().max(40).optional(),
            format: z.enum(['json', 'html']).optional(),
            lang: z.enum(['vi', 'en']).default('vi'),
          }),
          response: { 200: reportSchema.or(z.string()), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const now = deps.clock.now();
        const to = q.to ? parseCityTime(q.to, deps.timezone, 'to') : now + 1;
        const from = q.from ? parseCityTime(q.from, deps.timezone, 'from') : to - SHIFT_MS;
        if (to <= from) throw new DomainError('invalid', 'invalid_period', 'to must be after from');
        if (to - from > MAX_PERIOD_MS)
          throw new DomainError('invalid', 'period_too_long', 'a handover report covers at most 31 days');
        const report = await deps.handover.build(from, to);
        const html =
          q.format === 'html' || (q.format === undefined && /\btext\/html\b/.test(request.headers.accept ?? ''));
        if (html)
          return reply
            .type('text/html; charset=utf-8')
            .serializer((s: string) => s)
            .send(renderHandoverHtml(report, q.lang));
        return report;
      },
    );
  };
