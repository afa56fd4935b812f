import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { createBoundedAudit } from '../audit/bounded-audit.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { addressKey } from '../config/accounts/login-limiter.ts';
import { DomainError } from '../core/domain-error.ts';
import type { ProvisioningCodes } from '../config/sensors/provisioning-codes.ts';
import type { ProvisioningGate } from '../config/sensors/provisioning-limiter.ts';
import type { SensorAdmin } from '../config/sensors/sensor-admin.ts';
import { recordRequest } from './audit-http.ts';
import { allow } from './auth.ts';
import { errorBody } from './errors.ts';
import { createRefusalLog } from './refusal-log.ts';
import { deviceCredentialsBody } from './sensor-registry-presenter.ts';

/**
 * A field technician (no account) exchanges a one-time code for a device's MQTT credentials. The code is
 * spent and the device gets a new secret (any older one stops working), so a code seen later is worthless.
 * Refusals (unknown, used, expired) look the same to the caller, are logged once per reason and address,
 * counted, audited, and count against the address: past the limit of failures, claims from the address are
 * refused before any code is looked at (429) until its window ends; successes never count
 * (config/sensors/provisioning-limiter.ts says why, docs/security.md what a technician sees).
 */
export interface ProvisionRoutesDeps {
  codes: ProvisioningCodes;
  admin: Pick<SensorAdmin, 'rotate'>;
  exists(sensorId: string): boolean;
  /** the node's own limiter, or in a cluster the shared one (cluster/shared-limits.ts) */
  limiter: ProvisioningGate;
  registry: Registry;
  audit?: AuditRecorder;
  clock?: Clock;
  /** claims refused over the limit audited per address and minute (audit.authFailuresPerMinute), then summed */
  auditPerMinute?: number;
  /** what the device is told to connect to (the platform's MQTT address) */
  mqttUrl(): string;
}

/** the audit action of a claim refused by the limiter (429), bounded by audit/bounded-audit.ts */
export const PROVISION_LIMITED_ACTION = 'sensor.provision_rate_limited';

export const provisionRoutes =
  (deps: ProvisionRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const refused = new Counter({
      name: 'ioc_provisioning_refusals_total',
      help: 'Provisioning codes refused, by reason',
      labelNames: ['reason'],
      registers: [deps.registry],
    });
    const claimed = new Counter({
      name: 'ioc_provisioning_claims_total',
      help: 'Provisioning codes exchanged for device credentials',
      registers: [deps.registry],
    });
    const refusals = createRefusalLog(app.log);
    // a claim refused over the limit is audited like any refusal, but bounded per address and minute: the
    // flood past the limit becomes one audit.suppressed summary, not an entry (and an fsync) per request
    const limitedAudit = createBoundedAudit({
      audit: deps.audit,
      clock: deps.clock ?? systemClock,
      action: PROVISION_LIMITED_ACTION,
      perWindow: deps.auditPerMinute ?? 10,
    });
    app.addHook('onClose', async () => {
      await limitedAudit.close();
    });

    api.post(
      '/api/provision',
      {
        config: allow('public'),
        schema: {
          tags: ['sensors'],
          operationId: 'claimProvisioningCode',
          security: [],
          summary: "Exchange a one-time provisioning code for the device's MQTT credentials (once)",
          body: z.object({ code: z.string().min(1).max(64) }).strict(),
          response: {
            200: deviceCredentialsBody.extend({
              mqttUrl: z.string(),
              topics: z.object({ readings: z.string(), status: z.string(), errors: z.string() }),
            }),
            400: errorBody,
            403: errorBody,
            429: errorBody,
            503: errorBody,
          },
        },
      },
      async (request, reply) => {
        const address = request.ip;
        // one log line per address range, not per address: an IPv6 sender has 2^64 of them
        const range = addressKey(address);
        const verdict = await deps.limiter.check(address);
        const wait = verdict.waitMs;
        if (wait > 0) {
          refused.inc({ reason: 'rate_limited' });
          limitedAudit.record(range, {
            actor: { name: `technician@${address}`, role: 'anonymous' },
            address,
            action: PROVISION_LIMITED_ACTION,
            outcome: 'failure',
            target: 'provisioning-code',
            details: { reason: 'rate_limited', range, retryAfterSeconds: Math.ceil(wait / 1000) },
          });
          // logged once per limited window of the address
          if ('first' in verdict && verdict.first)
            app.log.warn(
              { address, range, retryAfterSeconds: Math.ceil(wait / 1000) },
              'provisioning codes refused: too many failed attempts from this address',
            );
          return reply
            .code(429)
            .header('retry-after', String(Math.ceil(wait / 1000)))
            .send({
              code: 'too_many_attempts',
              message: `too many failed attempts from this address: try again in ${Math.ceil(wait / 1000)} s`,
            });
        }
        let sensorId: string;
        try {
          sensorId = await deps.codes.claim(request.body.code, deps.exists);
        } catch (err) {
          const reason =
            err instanceof DomainError
              ? String((err.details as { reason?: string } | undefined)?.reason ?? 'unknown')
              : 'error';
          // a code refused counts against the address; Redis out of reach (a cluster's codes, 503) is not the caller's
          if (err instanceof DomainError && err.category === 'forbidden') await deps.limiter.failed(address);
          refused.inc({ reason });
          refusals.once(`${reason}:${range}`, { address, reason }, 'provisioning code refused');
          await recordRequest(deps.audit, request, {
            action: 'sensor.provision_refused',
            target: 'provisioning-code',
            details: { reason },
          });
          // the reason is for the log, metrics and audit: a caller sees one refusal for every kind, so it
          // learns nothing about a code (used, expired, for a deleted sensor) from trying it
          if (err instanceof DomainError && err.category === 'forbidden')
            throw new DomainError(err.category, err.code, err.message);
          throw err;
        }
        const credentials = deps.admin.rotate(sensorId);
        claimed.inc();
        await recordRequest(deps.audit, request, {
          action: 'sensor.provision',
          target: sensorId,
          actor: { name: `technician@${address}`, role: 'anonymous' },
          details: { after: { secret: 'replaced' } },
        });
        const base = `ioc/${credentials.kind}/${sensorId}`;
        return reply.header('cache-control', 'no-store').send({
          ...credentials,
          mqttUrl: deps.mqttUrl(),
          topics: { readings: `${base}/readings`, status: `${base}/status`, errors: `${base}/errors` },
        });
      },
    );
  };
