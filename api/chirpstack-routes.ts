import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../core/domain-error.ts';
import type { ChirpstackIngest } from '../ingest/chirpstack/chirpstack-ingest.ts';
import { CHIRPSTACK_EVENTS } from '../ingest/chirpstack/chirpstack-event.ts';
import { allow, principalOf } from './auth.ts';
import { errorBody } from './errors.ts';
import { answerIngest, ingestAccepted, ingestRefused } from './ingest-answer.ts';
import { retryAfterOf } from '../ingest/device-charge.ts';

/**
 * ChirpStack v4's HTTP integration (docs/lorawan.md): it POSTs each event's JSON to the configured URL
 * with `?event=up|join|status|...`; set the URL to `https://<platform>/api/integrations/chirpstack` and a
 * header `Authorization: Bearer <token of the integration account>`. Answered as HTTP ingest is
 * (api/ingest-answer.ts): 200 taken (or an event the platform ignores), 400/422 refused with the reason.
 */
export interface ChirpstackRoutesDeps {
  chirpstack: ChirpstackIngest;
  /** the integration account ChirpStack sends as (an admin's token may post too, for a test) */
  account: string;
  maxBodyBytes: number;
}

export const chirpstackRoutes =
  (deps: ChirpstackRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    // ChirpStack's JSON marshaler; its Protobuf marshaler is not supported (415)
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes },
      (_req, body, done) => done(null, body),
    );

    api.post(
      '/api/integrations/chirpstack',
      {
        config: allow('integration'),
        schema: {
          tags: ['ingest'],
          summary: 'ChirpStack v4 HTTP integration: uplinks become readings, join and status the device status',
          description:
            'The event JSON exactly as ChirpStack v4 sends it (JSON ' +
            'marshaler). 200: taken, or an event the platform ignores ' +
            '(ack, txack, log, location, integration). 400: not a ChirpStack event. 422: refused (unknown ' +
            'DevEUI, no decoded object, invalid values).',
          querystring: z.object({ event: z.enum(CHIRPSTACK_EVENTS) }),
          response: {
            200: ingestAccepted,
            207: ingestAccepted,
            400: ingestRefused.or(errorBody),
            401: errorBody,
            403: errorBody,
            413: ingestRefused.or(errorBody),
            422: ingestRefused,
            429: ingestRefused,
            503: errorBody,
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal && principal.role !== 'admin' && principal.name !== deps.account) {
          throw new DomainError(
            'forbidden',
            'not_this_integration',
            `${principal.name} is not the ChirpStack integration account (${deps.account})`,
          );
        }
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const outcome = await deps.chirpstack.handle(request.query.event, body);
        if (outcome.ignored) return reply.code(200).send({ accepted: 0, rejected: [] });
        const answer = answerIngest(outcome);
        // the device this event is for is over its message budget (ingest/device-charge.ts)
        const retryAfter = retryAfterOf(outcome);
        if (retryAfter !== undefined) reply.header('retry-after', retryAfter);
        return reply.code(answer.status).send(answer.body);
      },
    );
  };
