import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { riversGeoJson, type City } from '../config/city-config.ts';
import { DomainError } from '../core/domain-error.ts';
import { allow, type AuthGuard } from './auth.ts';
import { errorBody } from './errors.ts';

/** Health, Prometheus metrics and the city's map data. */
export const healthBody = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  insecure: z.boolean(),
  broker: z.object({ ready: z.boolean(), clients: z.number() }),
  store: z.object({
    engine: z.string(),
    kind: z.string().describe('deprecated: the same as engine (kind names sensor kinds); removed in a later release'),
    ready: z.boolean(),
    lagBytes: z.number(),
    spoolBytes: z.number(),
    spoolMaxBytes: z.number(),
    acknowledgementsHeld: z.boolean(),
    lastError: z.string().optional(),
    adapter: z.record(z.string(), z.unknown()).optional(),
  }),
  uptimeSeconds: z.number(),
  // the commit log's disk: writable (else nothing is acknowledged: 503) and the low-disk watermark
  storage: z
    .object({
      writable: z.boolean(),
      reason: z.string().optional(),
      since: z.string().optional(),
      refusedWrites: z.number(),
      freeBytes: z.number().optional(),
      totalBytes: z.number().optional(),
      low: z.boolean(),
      lowReason: z.string().optional(),
    })
    .optional(),
  audit: z
    .object({
      chain: z.enum(['ok', 'broken']),
      reason: z.string().optional(),
      writeError: z.string().optional(),
      seq: z.number(),
    })
    .optional(),
  // commit-log damage and store batches set aside (store/integrity-state.ts)
  integrity: z
    .object({
      state: z.enum(['ok', 'damaged']),
      reasons: z.array(z.string()),
      damagedRegions: z.number(),
      tornTails: z.number(),
      quarantinedRecords: z.number(),
      quarantineDir: z.string(),
    })
    .optional(),
});
export type HealthReport = z.infer<typeof healthBody>;

export interface SystemRoutesDeps {
  city: City;
  guard: AuthGuard;
  registry: Registry;
  health: () => HealthReport;
  tileUrl?: string;
  tileAttribution?: string;
}

export const systemRoutes =
  (deps: SystemRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const boundary = deps.city.boundaryFile ? readFileSync(deps.city.boundaryFile, 'utf8') : undefined;

    api.get(
      '/api/health',
      {
        config: allow('public'),
        schema: {
          tags: ['system'],
          summary: 'Readiness of the broker and the store (open: for load balancers)',
          response: { 200: healthBody, 503: healthBody },
        },
      },
      async (_request, reply) => {
        const report = deps.health();
        reply.code(report.status === 'down' ? 503 : 200);
        return report;
      },
    );

    api.get(
      '/metrics',
      {
        config: allow('operator'),
        schema: { tags: ['system'], summary: 'Prometheus metrics (text format)' },
      },
      async (_request, reply) => {
        reply.header('content-type', deps.registry.contentType);
        return reply.send(await deps.registry.metrics());
      },
    );

    api.get(
      '/api/stats',
      {
        config: allow('viewer'),
        schema: {
          tags: ['system'],
          summary: 'Counters the console shows (readings stored since start), without the operator-only /metrics',
          response: { 200: z.object({ readingsStoredTotal: z.number() }), 401: errorBody },
        },
      },
      async () => {
        const counter = deps.registry.getSingleMetric('ioc_readings_stored_total');
        const values = counter ? (await counter.get()).values : [];
        return { readingsStoredTotal: values.reduce((sum, v) => sum + v.value, 0) };
      },
    );

    api.get(
      '/api/city',
      {
        config: allow('viewer'),
        schema: {
          tags: ['city'],
          summary: 'The city: name, map centre, attribution',
          response: {
            200: z.object({
              id: z.string(),
              name: z.object({ vi: z.string(), en: z.string() }),
              timezone: z.string(),
              center: z.object({ lat: z.number(), lon: z.number() }),
              zoom: z.number(),
              boundaryAttribution: z.string().optional(),
              tileUrl: z.string().optional(),
              tileAttribution: z.string().optional(),
              kinds: z.array(
                z.object({
                  kind: z.string(),
                  category: z.string(),
                  metrics: z.array(
                    z.object({
                      name: z.string(),
                      unit: z.string(),
                      label: z.object({ vi: z.string(), en: z.string() }),
                    }),
                  ),
                }),
              ),
              districts: z.array(z.string()),
            }),
            401: errorBody,
          },
        },
      },
      async () => {
        const { city } = deps;
        return {
          id: city.id,
          name: city.name,
          timezone: city.timezone,
          center: city.center,
          zoom: city.zoom,
          ...(city.boundaryAttribution ? { boundaryAttribution: city.boundaryAttribution } : {}),
          ...(deps.tileUrl ? { tileUrl: deps.tileUrl } : {}),
          ...(deps.tileAttribution ? { tileAttribution: deps.tileAttribution } : {}),
          kinds: [...city.kinds.values()].map((k) => ({
            kind: k.kind,
            category: k.category,
            metrics: Object.values(k.metrics).map((m) => ({ name: m.name, unit: m.unit, label: m.label })),
          })),
          districts: [...new Set(city.sensors.map((s) => s.district))].sort((a, b) => a.localeCompare(b, 'vi')),
        };
      },
    );

    api.get(
      '/api/city/boundary',
      {
        config: allow('viewer'),
        schema: {
          tags: ['city'],
          summary: 'The city boundary as GeoJSON (shipped with the config: the map works offline)',
        },
      },
      async (_request, reply) => {
        if (!boundary) throw new DomainError('not_found', 'no_boundary', 'the city config has no boundary file');
        reply.header('content-type', 'application/geo+json; charset=utf-8');
        reply.header('cache-control', 'private, max-age=3600');
        return reply.send(boundary);
      },
    );

    api.get(
      '/api/city/rivers',
      {
        config: allow('viewer'),
        schema: {
          tags: ['city'],
          summary:
            'Rivers and canals as GeoJSON lines named in Vietnamese and ' +
            'English (optional in the city config; the map works offline)',
          response: { 200: riversGeoJson, 401: errorBody, 404: errorBody },
        },
      },
      async (_request, reply) => {
        const { rivers } = deps.city;
        if (!rivers) throw new DomainError('not_found', 'no_rivers', 'the city config has no rivers file');
        reply.header('content-type', 'application/geo+json; charset=utf-8');
        reply.header('cache-control', 'private, max-age=3600');
        return rivers;
      },
    );
  };
