import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';
import type { City } from '../config/city-config.ts';
import { DomainError } from '../core/domain-error.ts';
import type { DeviceStateTracker } from '../ingest/device-state.ts';
import type { LatestValues } from '../store/latest-values.ts';
import { MAX_EVERY_MS, MAX_TIME_MS } from '../store/query-bounds.ts';
import { AGGREGATE_FNS, type LatestQuery, type LatestValue, type TimeSeriesStore } from '../store/time-series-store.ts';
import { allow, type AuthGuard } from './auth.ts';
import { samplesJson } from '../store/range-json.ts';
import { errorBody } from './errors.ts';
import { rawPageBody } from './readings-page.ts';
import { metricBody, presentMetrics, presentSensor, sensorBody } from './sensor-presenter.ts';

export interface SensorsRoutesDeps {
  city: City;
  store: TimeSeriesStore;
  states: DeviceStateTracker;
  guard: AuthGuard;
  /** waits until everything acknowledged so far is queryable (read-your-writes) */
  readBarrier: () => Promise<void>;
  /** latest values kept in memory from the commit log (store/latest-values.ts); without it the store answers */
  latest?: LatestValues;
}

const MAX_RAW_POINTS = 10_000;
const MAX_BUCKETS = 10_000;

const timeParam = z.union([z.string(), z.number()]).optional().describe('ISO-8601 or epoch milliseconds');

function parseTime(value: string | number | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const ms = typeof value === 'number' || /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIME_MS)
    throw new DomainError(
      'invalid',
      'invalid_time',
      `${name} must be ISO-8601 or epoch milliseconds (within ±${MAX_TIME_MS}), got "${value}"`,
    );
  return ms;
}

export const readingsBody = z.object({
  sensorId: z.string(),
  metric: z.string(),
  unit: z.string(),
  from: z.number(),
  to: z.number(),
  every: z.number().optional(),
  fn: z.string().optional(),
  points: z.array(z.object({ ts: z.number(), value: z.number() })),
  truncated: z
    .boolean()
    .describe('true when the range holds more raw samples than limit: ask again with from = nextFrom'),
  nextFrom: z.number().optional().describe('with truncated: the time of the first sample not returned'),
});

export const sensorsRoutes =
  (deps: SensorsRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const { city, store, states } = deps;
    const api = app.withTypeProvider<ZodTypeProvider>();
    // in memory when the platform keeps them: updated when a reading is durable, so no read barrier either
    const latestValues = async (q: LatestQuery): Promise<LatestValue[]> => {
      if (deps.latest) return deps.latest.query(q);
      await deps.readBarrier();
      return store.latest(q);
    };
    const findSensor = (id: string) => {
      const sensor = city.sensorsById.get(id);
      if (!sensor) throw new DomainError('not_found', 'sensor_not_found', `no sensor "${id}"`);
      return sensor;
    };

    api.get(
      '/api/sensors',
      {
        config: allow('viewer'),
        schema: {
          tags: ['sensors'],
          summary: 'Sensors with their state and latest values',
          querystring: z.object({ kind: z.string().optional(), district: z.string().optional() }),
          response: { 200: z.object({ sensors: z.array(sensorBody) }), 401: errorBody },
        },
      },
      async (request) => {
        const { kind, district } = request.query;
        const sensors = city.sensors.filter(
          (s) => (!kind || s.kind === kind) && (!district || s.district === district),
        );
        const latest = await latestValues({ ...(kind ? { kind } : {}), ...(district ? { district } : {}) });
        return { sensors: sensors.map((s) => presentSensor(s, states, latest)) };
      },
    );

    api.get(
      '/api/sensors/:id',
      {
        config: allow('viewer'),
        schema: {
          tags: ['sensors'],
          summary: 'One sensor with its metrics (units, ranges) and latest values',
          params: z.object({ id: z.string() }),
          response: { 200: sensorBody.extend({ metrics: z.array(metricBody) }), 401: errorBody, 404: errorBody },
        },
      },
      async (request) => {
        const sensor = findSensor(request.params.id);
        const latest = await latestValues({ sensorIds: [sensor.id] });
        return { ...presentSensor(sensor, states, latest), metrics: presentMetrics(city, sensor) };
      },
    );

    api.get(
      '/api/sensors/:id/readings',
      {
        config: allow('viewer'),
        schema: {
          tags: ['readings'],
          summary: 'Readings of one metric over a time range, raw or aggregated per bucket',
          description:
            'from/to: ISO-8601 or epoch ms (default: the last 24 h). every: a duration such as 5m or 1h ' +
            '(buckets aligned to the epoch); fn: mean (default), min, max, first, last, count, sum. Without ' +
            'every, raw samples, oldest first, at most limit (default and maximum 10000): a longer range ' +
            'answers truncated: true and nextFrom, the from of the next page.',
          params: z.object({ id: z.string() }),
          querystring: z.object({
            metric: z.string().optional(),
            from: timeParam,
            to: timeParam,
            every: z.string().optional(),
            fn: z.enum(AGGREGATE_FNS).optional(),
            limit: z.coerce.number().int().min(1).max(MAX_RAW_POINTS).optional(),
          }),
          response: {
            200: readingsBody,
            400: errorBody,
            401: errorBody,
            404: errorBody,
          },
        },
      },
      async (request, reply) => {
        const sensor = findSensor(request.params.id);
        const kind = city.kinds.get(sensor.kind)!;
        const q = request.query;
        const metricNames = Object.keys(kind.metrics);
        if (!q.metric)
          throw new DomainError(
            'invalid',
            'metric_required',
            `metric is required; ${sensor.id} has ${metricNames.join(', ')}`,
          );
        const spec = kind.metrics[q.metric];
        if (!spec)
          throw new DomainError(
            'invalid',
            'unknown_metric',
            `${sensor.id} (${sensor.kind}) has no metric "${q.metric}"; it has ${metricNames.join(', ')}`,
          );
        const now = Date.now();
        const to = parseTime(q.to, now, 'to');
        const from = parseTime(q.from, to - 86_400_000, 'from');
        if (from >= to) throw new DomainError('invalid', 'invalid_range', 'from must be before to');
        const base = { measurement: sensor.kind, sensorId: sensor.id, field: q.metric, from, to };
        await deps.readBarrier();
        if (q.every === undefined) {
          if (q.fn) throw new DomainError('invalid', 'every_required', 'fn needs every (the bucket size, e.g. 5m)');
          // one more than asked (inside the store): whether the range holds more, and where the next page starts
          const limit = q.limit ?? MAX_RAW_POINTS;
          const page = store.queryRangeJson
            ? await store.queryRangeJson({ ...base, limit })
            : samplesJson(await store.queryRange({ ...base, limit: limit + 1 }), limit);
          const body = rawPageBody({ sensorId: sensor.id, metric: q.metric, unit: spec.unit, from, to }, page);
          // already JSON in the 200 schema's shape (api/readings-page.ts): sent as it is
          return reply.type('application/json; charset=utf-8').send(body as never);
        }
        const every = /^\d+$/.test(q.every) ? Number(q.every) : parseDuration(q.every);
        if (!every || !Number.isSafeInteger(every) || every <= 0 || every > MAX_EVERY_MS)
          throw new DomainError(
            'invalid',
            'invalid_every',
            `every must be a duration such as 30s, 5m or 1h (at most ${MAX_EVERY_MS / 86_400_000}d), got "${q.every}"`,
          );
        if ((to - from) / every > MAX_BUCKETS) {
          throw new DomainError(
            'invalid',
            'too_many_buckets',
            `${Math.ceil((to - from) / every)} buckets requested; at ` +
              `most ${MAX_BUCKETS}: use a larger every or a shorter range`,
          );
        }
        const fn = q.fn ?? 'mean';
        const points = await store.aggregate({ ...base, every, fn });
        return {
          sensorId: sensor.id,
          metric: q.metric,
          unit: spec.unit,
          from,
          to,
          every,
          fn,
          points,
          truncated: false,
        };
      },
    );

    api.get(
      '/api/readings/latest',
      {
        config: allow('viewer'),
        schema: {
          tags: ['readings'],
          summary: 'The latest value of every metric of every sensor, filtered by kind and district',
          querystring: z.object({ kind: z.string().optional(), district: z.string().optional() }),
          response: {
            200: z.object({
              readings: z.array(
                z.object({
                  sensorId: z.string(),
                  kind: z.string(),
                  district: z.string(),
                  metric: z.string(),
                  ts: z.number(),
                  value: z.number(),
                }),
              ),
            }),
            401: errorBody,
          },
        },
      },
      async (request) => {
        const { kind, district } = request.query;
        const latest = await latestValues({ ...(kind ? { kind } : {}), ...(district ? { district } : {}) });
        const known = latest.filter((v) => city.sensorsById.has(v.sensorId) && v.measurement === v.kind);
        return {
          readings: known.map((v) => ({
            sensorId: v.sensorId,
            kind: v.kind,
            district: v.district,
            metric: v.field,
            ts: v.ts,
            value: v.value,
          })),
        };
      },
    );
  };
