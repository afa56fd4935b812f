import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SEVERITIES } from '../alerts/delivery/alert-filter.ts';
import type { WebhookDispatcher } from '../alerts/delivery/webhook-dispatcher.ts';
import { ALERT_EVENT_TYPES } from '../alerts/delivery/webhook-target.ts';
import { allow, type AuthGuard } from './auth.ts';
import { errorBody } from './errors.ts';

export interface WebhooksRoutesDeps {
  webhooks: WebhookDispatcher;
  guard: AuthGuard;
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
  };
