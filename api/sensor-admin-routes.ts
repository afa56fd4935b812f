import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { ID_PATTERN } from '../config/city-config.ts';
import type { ProvisioningCodes } from '../config/sensors/provisioning-codes.ts';
import type { SensorAdmin } from '../config/sensors/sensor-admin.ts';
import type { SensorRegistry } from '../config/sensors/sensor-registry.ts';
import { recordRequest } from './audit-http.ts';
import { allow, principalOf } from './auth.ts';
import { errorBody } from './errors.ts';
import { createRefusalLog } from './refusal-log.ts';
import {
  auditShape,
  deviceCredentialsBody,
  presentRegistryEntry,
  registryEntryBody,
} from './sensor-registry-presenter.ts';

/**
 * The device registry for admins: create, edit, disable/enable, delete, rotate a device's secret, issue a
 * one-time provisioning code. Each change is durable (sensors.json, auth.json) before the answer, takes
 * effect at once (platform-registry.ts) and is audited. The GET routes operators use stay in
 * sensors-routes.ts and show the enabled sensors; this list shows all of them.
 */
export interface SensorAdminRoutesDeps {
  registry: SensorRegistry;
  admin: SensorAdmin;
  codes: ProvisioningCodes;
  hasSecret(sensorId: string): boolean;
  audit?: AuditRecorder;
  /** refusals (400, 404, 409) of these routes and of the import are counted here */
  metrics?: Registry;
}

const id = z
  .string()
  .regex(ID_PATTERN, 'letters, digits, "_", "-" or "." (at most 64), starting with a letter or digit');
const tags = z.record(z.string().min(1).max(64), z.string().max(256));
const floodLevels = z.array(z.number()).length(3).describe('flood alarm levels I, II, III (m), rising');
const createBody = z
  .object({
    id,
    kind: z.string().min(1).max(64),
    name: z.string().min(1).max(200),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    district: z.string().min(1).max(100),
    tags: tags.default({}),
    floodLevels: floodLevels.optional(),
  })
  .strict();
const patchBody = z
  .object({
    kind: z.string().min(1).max(64).optional(),
    name: z.string().min(1).max(200).optional(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    district: z.string().min(1).max(100).optional(),
    tags: tags.optional(),
    floodLevels: floodLevels.nullable().optional().describe('null removes them'),
    disabled: z
      .boolean()
      .optional()
      .describe('true: refused at once and its live MQTT session closed; false: back with the same secret'),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change');
const idParam = z.object({ id: z.string().min(1).max(64) });
const codeBody = z
  .object({
    expiresInMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
  })
  .strict();
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

export const sensorAdminRoutes =
  (deps: SensorAdminRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const { registry, admin } = deps;
    // 401/403 are counted and audited for every route already (audit-http.ts); the rest are this page's own
    const refused = new Counter({
      name: 'ioc_sensor_registry_refusals_total',
      help: 'Sensor registry requests refused (bad input, unknown or existing sensor), by status',
      labelNames: ['status'],
      registers: deps.metrics ? [deps.metrics] : [],
    });
    const refusals = createRefusalLog(app.log);
    app.addHook('onResponse', async (request, reply) => {
      const status = reply.statusCode;
      if (status < 400 || status >= 500 || status === 401 || status === 403) return;
      refused.inc({ status: String(status) });
      const by = principalOf(request)?.name ?? 'unknown';
      refusals.once(
        `${request.routeOptions.url}:${status}:${by}`,
        { by, from: request.ip, route: `${request.method} ${request.routeOptions.url}`, status },
        'sensor registry request refused',
      );
    });
    const present = (sensorId: string) => presentRegistryEntry(registry.entry(sensorId)!, deps.hasSecret(sensorId));
    const audit = async (
      request: FastifyRequest,
      action: string,
      target: string,
      details?: Record<string, unknown>,
    ) => {
      request.log.info({ by: principalOf(request)?.name, from: request.ip, action, target }, 'sensor change');
      await recordRequest(deps.audit, request, { action, target, details });
    };

    api.get(
      '/api/sensor-registry',
      {
        config: allow('admin'),
        schema: {
          tags: ['sensors'],
          operationId: 'listSensorRegistry',
          summary: 'Every sensor of the registry, disabled ones included (admin)',
          response: { 200: z.object({ sensors: z.array(registryEntryBody) }), 401: errorBody, 403: errorBody },
        },
      },
      async () => ({ sensors: registry.all().map((e) => present(e.id)) }),
    );

    api.post(
      '/api/sensors',
      {
        config: allow('admin'),
        schema: {
          tags: ['sensors'],
          operationId: 'createSensor',
          summary: 'Create a sensor: it may connect and publish at once with the secret in this response (shown once)',
          body: createBody,
          response: { 201: z.object({ sensor: registryEntryBody, credentials: deviceCredentialsBody }), ...errors },
        },
      },
      async (request, reply) => {
        const { entry, credentials } = admin.create(request.body);
        await audit(request, 'sensor.create', entry.id, { after: auditShape(entry) });
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({ sensor: present(entry.id), credentials });
      },
    );

    api.patch(
      '/api/sensors/:id',
      {
        config: allow('admin'),
        schema: {
          tags: ['sensors'],
          operationId: 'updateSensor',
          summary: 'Edit a sensor, or disable / enable it',
          params: idParam,
          body: patchBody,
          response: { 200: registryEntryBody, ...errors },
        },
      },
      async (request) => {
        const { disabled, ...patch } = request.body;
        const sensorId = request.params.id;
        const before = auditShape(registry.entry(sensorId));
        if (Object.keys(patch).length) admin.update(sensorId, patch);
        if (disabled !== undefined) admin.setDisabled(sensorId, disabled);
        const action = Object.keys(patch).length ? 'sensor.update' : disabled ? 'sensor.disable' : 'sensor.enable';
        await audit(request, action, sensorId, { before, after: auditShape(registry.entry(sensorId)) });
        return present(sensorId);
      },
    );

    api.delete(
      '/api/sensors/:id',
      {
        config: allow('admin'),
        schema: {
          tags: ['sensors'],
          operationId: 'deleteSensor',
          summary: 'Delete a sensor: its secret and codes go, its live session closes; its readings stay',
          params: idParam,
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        const before = admin.remove(request.params.id);
        deps.codes.forget(before.id);
        await audit(request, 'sensor.delete', before.id, { before: auditShape(before) });
        return reply.code(204).send(null);
      },
    );

    api.post(
      '/api/sensors/:id/secret',
      {
        config: allow('admin'),
        schema: {
          tags: ['sensors'],
          operationId: 'rotateSensorSecret',
          summary: 'New device secret (shown once): the old one is refused and its live session closed at once',
          params: idParam,
          response: { 200: deviceCredentialsBody, ...errors },
        },
      },
      async (request, reply) => {
        const credentials = admin.rotate(request.params.id);
        await audit(request, 'device.secret_rotate', credentials.sensorId, { after: { secret: 'replaced' } });
        return reply.header('cache-control', 'no-store').send(credentials);
      },
    );

    api.post(
      '/api/sensors/:id/provisioning-codes',
      {
        config: allow('admin'),
        schema: {
          tags: ['sensors'],
          operationId: 'issueProvisioningCode',
          summary: "A one-time code a field technician exchanges for the device's credentials (POST /api/provision)",
          params: idParam,
          body: codeBody,
          response: { 201: z.object({ code: z.string(), sensorId: z.string(), expiresAt: z.string() }), ...errors },
        },
      },
      async (request, reply) => {
        const entry = registry.entry(request.params.id);
        if (!entry)
          return reply
            .code(404)
            .send({ code: 'sensor_not_found', message: `no sensor "${request.params.id}" in the registry` });
        const issued = deps.codes.issue(
          entry.id,
          request.body.expiresInMinutes * 60_000,
          principalOf(request)?.name ?? 'unknown',
        );
        await audit(request, 'sensor.provisioning_code', entry.id, { after: { expiresAt: issued.expiresAt } });
        return reply.code(201).header('cache-control', 'no-store').send(issued);
      },
    );
  };
