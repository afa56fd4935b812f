import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SEVERITIES } from '../alerts/delivery/alert-filter.ts';
import type { WebhookDispatcher } from '../alerts/delivery/webhook-dispatcher.ts';
import type { WebhookTargetStore } from '../alerts/delivery/webhook-target-store.ts';
import { ALERT_EVENT_TYPES, displayUrl, webhookTargetSchema } from '../alerts/delivery/webhook-target.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { DomainError } from '../core/domain-error.ts';
import { recordRequest } from './audit-http.ts';
import { allow, principalOf, type AuthGuard } from './auth.ts';
import { errorBody } from './errors.ts';

export interface WebhooksRoutesDeps {
  webhooks: WebhookDispatcher;
  guard: AuthGuard;
  /** targets added at run time (admin); absent: only the config's */
  targets?: WebhookTargetStore;
  audit?: AuditRecorder;
}

const DELIVERY_STATUSES = ['delivered', 'retrying', 'failed', 'dropped'] as const;

const targetBody = z.object({
  id: z.string(),
  url: z.string().describe('without credentials or query string'),
  filter: z.object({
    kind: z.array(z.string()).optional(),
    severity: z.array(z.enum(SEVERITIES)).optional(),
    district: z.array(z.string()).optional(),
  }),
  events: z.array(z.enum(ALERT_EVENT_TYPES)).optional(),
  queued: z.number(),
  delivered: z.number(),
  failed: z.number(),
  dropped: z.number(),
  refused: z.number().describe('deliveries refused: the target resolves to a private, loopback or metadata address'),
  lastSuccessAt: z.number().optional(),
  lastFailureAt: z.number().optional(),
});

const addedTarget = z.object({
  id: z.string(),
  url: z.string().describe('without credentials or query string'),
  filter: targetBody.shape.filter,
  events: z.array(z.enum(ALERT_EVENT_TYPES)).optional(),
  timeoutMs: z.number(),
  allowPrivate: z.boolean(),
  createdBy: z.string(),
  createdAt: z.number(),
});

const attemptBody = z.object({
  deliveryId: z.string(),
  target: z.string(),
  seq: z.number(),
  alertId: z.string(),
  eventType: z.enum(ALERT_EVENT_TYPES),
  attempt: z.number(),
  at: z.number(),
  status: z.enum(DELIVERY_STATUSES),
  httpStatus: z.number().optional(),
  error: z.string().optional(),
  durationMs: z.number().optional(),
  nextAttemptAt: z.number().optional(),
});

/** Delivery status of the configured webhooks: per target totals and the recent attempts, newest first. */
export const webhooksRoutes =
  (deps: WebhooksRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/api/webhooks/deliveries',
      {
        config: allow('operator'),
        schema: {
          tags: ['alerts'],
          summary: 'Webhook targets and their recent delivery attempts (status codes, errors, next retry)',
          querystring: z.object({
            target: z.string().optional(),
            status: z.enum(DELIVERY_STATUSES).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: {
            200: z.object({ targets: z.array(targetBody), deliveries: z.array(attemptBody) }),
            400: errorBody,
            401: errorBody,
          },
        },
      },
      async (request) => ({
        targets: deps.webhooks.targets(),
        deliveries: deps.webhooks.deliveries(request.query),
      }),
    );

    const store = deps.targets;
    if (!store) return;
    // the secret never leaves: not in an answer, the log or the audit (only that there is one)
    const present = (id: string) => {
      const found = store.describe().find((t) => t.target.id === id)!;
      const { url, ...rest } = found.target;
      return { ...rest, url: displayUrl(url), createdBy: found.createdBy, createdAt: found.createdAt };
    };
    /** a refused change: logged (its code and the target's id, never the body) and answered as usual */
    const refusing = <T>(request: { log: { warn(o: object, m: string): void } }, id: unknown, fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        if (err instanceof DomainError)
          request.log.warn({ code: err.code, target: String(id).slice(0, 64) }, 'webhook target change refused');
        throw err;
      }
    };

    api.get(
      '/api/webhooks/targets',
      {
        config: allow('admin'),
        schema: {
          tags: ['alerts'],
          summary: "Webhook targets added at run time (without their secrets; the config's are not listed)",
          response: { 200: z.object({ targets: z.array(addedTarget) }), 401: errorBody, 403: errorBody },
        },
      },
      async () => ({ targets: store.describe().map((t) => present(t.target.id)) }),
    );

    api.post(
      '/api/webhooks/targets',
      {
        config: allow('admin'),
        schema: {
          tags: ['alerts'],
          summary: 'Add a webhook target: alert events are sent to it, signed with its secret, from now on',
          description: 'Same fields as a target of `webhooks:` in the platform config. In a cluster, every node.',
          body: z
            .record(z.string(), z.unknown())
            .describe(JSON.stringify(z.toJSONSchema(webhookTargetSchema, { io: 'input', unrepresentable: 'any' }))),
          response: { 201: addedTarget, 400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody },
        },
      },
      async (request, reply) => {
        const by = principalOf(request)?.name ?? 'admin';
        const target = refusing(request, request.body.id, () => store.add(request.body, by));
        request.log.info({ target: target.id, url: displayUrl(target.url), by }, 'webhook target added');
        await recordRequest(deps.audit, request, {
          action: 'webhook.create',
          target: target.id,
          details: { after: { url: displayUrl(target.url), filter: target.filter, secret: 'set' } },
        });
        return reply.code(201).send(present(target.id));
      },
    );

    api.delete(
      '/api/webhooks/targets/:id',
      {
        config: allow('admin'),
        schema: {
          tags: ['alerts'],
          summary: 'Remove a webhook target added at run time (what is queued for it is dropped)',
          params: z.object({ id: z.string().min(1).max(64) }),
          response: { 204: z.null(), 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        refusing(request, id, () => store.remove(id));
        request.log.info({ target: id }, 'webhook target removed');
        await recordRequest(deps.audit, request, { action: 'webhook.delete', target: id });
        return reply.code(204).send(null);
      },
    );
  };
