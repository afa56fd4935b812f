import { DomainError } from '../core/domain-error.ts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditRecorder } from '../audit/audit-log.ts';
import type { SensorAdmin } from '../config/sensors/sensor-admin.ts';
import { checkImportInSlices } from '../config/sensors/sensor-import.ts';
import type { SensorRegistry } from '../config/sensors/sensor-registry.ts';
import { recordRequest } from './audit-http.ts';
import { allow } from './auth.ts';
import { errorBody } from './errors.ts';
import { deviceCredentialsBody } from './sensor-registry-presenter.ts';

/**
 * Bulk import (admin): a CSV (`content-type: text/csv`) or a GeoJSON FeatureCollection
 * (`application/geo+json` or `application/json`). `dryRun=true` lists every problem by row or feature and
 * changes nothing; a real run with any problem is refused whole (400, the same list), without one it
 * applies every row in one durable write and returns the new sensors' secrets (shown once).
 */
export interface SensorImportRoutesDeps {
  registry: SensorRegistry;
  admin: SensorAdmin;
  audit?: AuditRecorder;
}

const problem = z.object({
  where: z.string().describe('CSV: "line N"; GeoJSON: "features[i]"'),
  id: z.string().optional(),
  message: z.string(),
});
const importResult = z.object({
  dryRun: z.boolean(),
  rows: z.number(),
  problems: z.array(problem),
  sensors: z.array(z.object({ id: z.string(), action: z.enum(['create', 'update']) })),
  credentials: z
    .array(deviceCredentialsBody)
    .describe('the secrets of the sensors created (a real run only; shown once)'),
});

export const sensorImportRoutes =
  (deps: SensorImportRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    // bodies kept as text: a syntax error is reported as a problem of the file, like every other one
    // invalid UTF-8 is refused, not turned into U+FFFD and stored (review F6)
    const strict = new TextDecoder('utf-8', { fatal: true });
    app.addContentTypeParser(['text/csv', 'application/geo+json'], { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, strict.decode(body as Buffer));
      } catch {
        done(
          new DomainError(
            'invalid',
            'invalid_encoding',
            'the file is not valid UTF-8: save it as UTF-8 and import it again',
          ),
        );
      }
    });

    api.post(
      '/api/sensors/import',
      {
        config: allow('admin'),
        schema: {
          tags: ['sensors'],
          operationId: 'importSensors',
          summary: 'Bulk import sensors from CSV or GeoJSON, with a dry run that lists every problem by row',
          description:
            'CSV columns: id, kind, name, lat, lon, district (required), floodLevels ("1;2;3.5"), tags ' +
            '("k=v;k2=v2") or tag.<name> columns. GeoJSON: Point features ' +
            'with the same properties. A real run is all or nothing.',
          querystring: z.object({
            dryRun: z.enum(['true', 'false']).default('false').describe('true: check only, change nothing'),
            update: z
              .enum(['true', 'false'])
              .default('false')
              .describe('true: rows for existing sensors update them; false: they are problems (duplicate id)'),
          }),
          body: z.union([
            z.string().describe('CSV text'),
            z.looseObject({ type: z.literal('FeatureCollection'), features: z.array(z.unknown()) }),
          ]),
          response: {
            200: importResult,
            400: importResult.or(errorBody),
            401: errorBody,
            403: errorBody,
            409: errorBody,
          },
        },
      },
      async (request, reply) => {
        const contentType = String(request.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim();
        const format = contentType === 'text/csv' ? 'csv' : 'geojson';
        const dryRun = request.query.dryRun === 'true';
        const { registry } = deps;
        const check = await checkImportInSlices(format, request.body, registry.checks, {
          exists: (id) => registry.entry(id) !== undefined,
          updateExisting: request.query.update === 'true',
        });
        const sensors = check.plan.map((p) => ({
          id: p.sensor.id,
          action: p.existing ? ('update' as const) : ('create' as const),
        }));
        const base = { dryRun, rows: check.rows, problems: check.problems, sensors, credentials: [] };
        if (check.problems.length) {
          request.log.info(
            { format, rows: check.rows, problems: check.problems.length, dryRun },
            'sensor import refused: problems listed',
          );
          return reply.code(dryRun ? 200 : 400).send(base);
        }
        if (dryRun) return base;
        // the check gave the event loop back between slices: someone may have changed the registry meanwhile
        const moved = check.plan.find((p) => p.existing !== (registry.entry(p.sensor.id) !== undefined));
        if (moved)
          return reply.code(409).send({
            code: 'registry_changed',
            message: `sensor "${moved.sensor.id}" was created or deleted while the import was checked: run it again`,
          });
        const result = deps.admin.importPlan(check.plan);
        await recordRequest(deps.audit, request, {
          action: 'sensor.import',
          target: format,
          details: { rows: check.rows, created: result.created.map((c) => c.sensorId), updated: result.updated },
        });
        return reply.header('cache-control', 'no-store').send({ ...base, credentials: result.created });
      },
    );
  };
