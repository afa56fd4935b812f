import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../core/domain-error.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import { allow, principalOf, type AuthGuard } from './auth.ts';
import { errorBody } from './errors.ts';
import { answerIngest, ingestAccepted, ingestRefused } from './ingest-answer.ts';

/**
 * HTTP ingestion for devices or gateways that cannot hold an MQTT connection (LoRaWAN network servers,
 * batch backfill). Same topic scheme, same payloads, same ingest function as MQTT; HTTP Basic with the
 * device's own credentials; answered only once the accepted readings are durable, with the status saying
 * whether all, part or none was accepted (api/ingest-answer.ts) and the MQTT errors topic's codes.
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
  admitHttp(
    device: string,
    connection: object,
    bytes: number,
  ): { ok: true } | { ok: false; retryAfterSeconds: number; message: string };
}

export const ingestRoutes =
  (deps: IngestRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    app.addContentTypeParser(
      ['application/json', 'application/senml+json', 'text/plain'],
      { parseAs: 'buffer', bodyLimit: deps.maxPayloadBytes * 4 },
      (_req, body, done) => done(null, body),
    );

    api.post(
      '/api/ingest/:kind/:sensorId/:channel',
      {
        config: allow('device'),
        schema: {
          tags: ['ingest'],
          summary: 'Publish a device message over HTTP (same payloads as MQTT)',
          description:
            '200: all accepted. 207: part accepted, `rejected` lists ' +
            'the rest. 400: the topic or payload cannot be read. ' +
            '413: payload over mqtt.maxPayloadBytes. 422: nothing valid (every reading refused, unknown sensor). ' +
            'Refusal codes are those of the MQTT errors topic.',
          params: z.object({
            kind: z.string(),
            sensorId: z.string(),
            channel: z.enum(['readings', 'status', 'events']),
          }),
          response: {
            200: ingestAccepted,
            207: ingestAccepted,
            400: ingestRefused.or(errorBody),
            413: ingestRefused.or(errorBody),
            422: ingestRefused,
            401: errorBody,
            403: errorBody,
            429: errorBody,
            503: errorBody,
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request) ?? deps.guard.authenticateDevice(request);
        const { kind, sensorId, channel } = request.params;
        if (principal.role === 'device' && principal.sensorId !== sensorId) {
          throw new DomainError('forbidden', 'not_your_topic', `device ${principal.sensorId} may only send for itself`);
        }
        const body = request.body;
        const payload = Buffer.isBuffer(body)
          ? body
          : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? ''));
        const topic = `ioc/${kind}/${sensorId}/${channel}`;
        if (principal.role === 'device' && deps.budget) {
          // the bytes as MQTT counts them (payload and topic), before any parsing
          const verdict = deps.budget.admitHttp(principal.name, request.raw.socket, payload.length + topic.length);
          if (!verdict.ok)
            return reply
              .code(429)
              .header('retry-after', verdict.retryAfterSeconds)
              .send({ code: 'rate_limited', message: verdict.message });
        }
        const outcome = await deps.ingest.handle(topic, payload, 'device');
        const answer = answerIngest(outcome);
        return reply.code(answer.status).send(answer.body);
      },
    );
  };
