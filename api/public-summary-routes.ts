import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PublicSummary } from '../alerts/kpi/public-summary.ts';
import { allow } from './auth.ts';
import { renderPublicPage } from './public-page.ts';

/**
 * The city's open data on handling (issue 16 item 5), with no login: JSON at /api/public/summary and a
 * page at /public (?lang=en). Only what `public.publish` lets through (alerts/kpi/public-summary.ts).
 */
export interface PublicRoutesDeps {
  summary: { get(): Promise<PublicSummary> };
}

const period = z.object({
  from: z.number(),
  alerts: z.number().int(),
  acknowledge: z.object({
    medianMinutes: z.number().nullable(),
    p90Minutes: z.number().nullable(),
    withinTarget: z.number().nullable().optional(),
  }),
  resolve: z.object({
    medianMinutes: z.number().nullable(),
    p90Minutes: z.number().nullable(),
    withinTarget: z.number().nullable().optional(),
  }),
});
const summarySchema = z.object({
  generatedAt: z.number(),
  timezone: z.string(),
  openIncidents: z
    .array(
      z.object({
        district: z.string(),
        type: z.string(),
        count: z.number().int(),
        sensorIds: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  week: period.optional(),
  month: period.optional(),
});

export const publicRoutes =
  (deps: PublicRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/api/public/summary',
      {
        config: allow('public'),
        schema: {
          tags: ['public'],
          summary: 'Open incidents and handling times the city publishes (no login)',
          security: [],
          response: { 200: summarySchema },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'public, max-age=30');
        return deps.summary.get();
      },
    );

    api.get(
      '/public',
      {
        config: allow('public'),
        schema: { hide: true, querystring: z.object({ lang: z.enum(['vi', 'en']).default('vi') }) },
      },
      async (request, reply) => {
        const summary = await deps.summary.get();
        reply.header('cache-control', 'public, max-age=30').type('text/html; charset=utf-8');
        return renderPublicPage(summary, request.query.lang);
      },
    );
  };
