import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../core/domain-error.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import { allow, principalOf, type AuthGuard } from './auth.ts';
import { errorBody } from './errors.ts';

/**
 * HTTP ingestion for devices or gateways that cannot hold an MQTT connection (LoRaWAN network servers,
 * batch backfill). Same topic scheme, same payloads, same ingest function as MQTT; HTTP Basic with the
 * device's own credentials; 200 only once the accepted readings are durable.
 */
export interface IngestRoutesDeps {
  ingest: IngestService;
  guard: AuthGuard;
  maxPayloadBytes: number;
  /** the device's message budget, shared with MQTT (broker/device-budget.ts): over it, 429 */
  budget?: HttpIngestBudget;
}

/** What HTTP ingest needs of the shared device budget (implemented by broker/device-budget.ts). */
export interface HttpIngestBudget {
  admitHttp(device: string, connection: object, bytes: number): { ok: true } | { ok: false; retryAfterSeconds: number; message: string };
}

export const ingestRoutes = (deps: IngestRoutesDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  app.addContentTypeParser(['application/json', 'application/senml+json', 'text/plain'], { parseAs: 'buffer', bodyLimit: deps.maxPayloadBytes * 4 }, (_req, body, done) => done(null, body));

  api.post('/api/ingest/:kind/:sensorId/:channel', {
    config: allow('device'),
    schema: {
      tags: ['ingest'],
      summary: 'Publish a device message over HTTP (same payloads as MQTT)',
      params: z.object({ kind: z.string(), sensorId: z.string(), channel: z.enum(['readings', 'status', 'events']) }),
      response: {
        200: z.object({ accepted: z.number(), rejected: z.array(z.object({ code: z.string(), message: z.string(), index: z.number().optional(), metric: z.string().optional() })) }),
        401: errorBody, 403: errorBody, 413: errorBody, 429: errorBody, 503: errorBody,
      },
    },
  }, async (request, reply) => {
    const principal = principalOf(request) ?? deps.guard.authenticateDevice(request);
    const { kind, sensorId, channel } = request.params;
    if (principal.role === 'device' && principal.sensorId !== sensorId) {
      throw new DomainError('forbidden', 'not_your_topic', `device ${principal.sensorId} may only send for itself`);
    }
    const body = request.body;
    const payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? ''));
    const topic = `ioc/${kind}/${sensorId}/${channel}`;
    if (principal.role === 'device' && deps.budget) {
      // the bytes as MQTT counts them (payload and topic), before any parsing
      const verdict = deps.budget.admitHttp(principal.name, request.raw.socket, payload.length + topic.length);
      if (!verdict.ok) return reply.code(429).header('retry-after', verdict.retryAfterSeconds).send({ code: 'rate_limited', message: verdict.message });
    }
    const outcome = await deps.ingest.handle(topic, payload, 'device');
    return { accepted: outcome.accepted, rejected: [...outcome.rejected] };
  });
};
