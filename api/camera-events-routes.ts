import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../core/domain-error.ts';
import type { CameraSources } from '../ingest/cameras/camera-sources.ts';
import { allow, principalOf } from './auth.ts';
import { errorBody } from './errors.ts';
import { answerIngest, ingestAccepted, ingestRefused } from './ingest-answer.ts';
import { retryAfterOf } from '../ingest/device-charge.ts';

/**
 * Camera and NVR event pushes (docs/cameras.md): `POST /api/integrations/cameras/{source}` with the body the
 * source's software sends (ONVIF-style JSON or XML notifications; Frigate's event JSON), as the source's
 * integration account (`Authorization: Bearer <token>`). Answered as HTTP ingest is: 200 taken or ignored
 * on purpose (an alarm turning off, a duplicate), 207 part, 400/422 refused with the reason.
 */
export interface CameraEventsRoutesDeps {
  sources: CameraSources;
  maxBodyBytes: number;
}

export const cameraEventsRoutes =
  (deps: CameraEventsRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    app.addContentTypeParser(
      ['application/json', 'application/xml', 'text/xml', 'application/soap+xml'],
      { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes },
      (_req, body, done) => done(null, body),
    );

    api.post(
      '/api/integrations/cameras/:source',
      {
        config: allow('integration'),
        schema: {
          tags: ['ingest'],
          summary: 'Camera/NVR events in their own shape, mapped to camera events by the source config',
          description:
            'Body: ONVIF-style notifications ({"source","topic","state","time"} JSON, or WS-BaseNotification ' +
            'XML), or Frigate event JSON. ' +
            '200: taken, or ignored on purpose (alarm off, duplicate, unmapped label set to ignore). 207: ' +
            'part taken. 400: unreadable. 422: refused.',
          params: z.object({ source: z.string().max(64) }),
          response: {
            200: ingestAccepted,
            207: ingestAccepted,
            400: ingestRefused.or(errorBody),
            401: errorBody,
            403: errorBody,
            404: errorBody,
            413: ingestRefused.or(errorBody),
            422: ingestRefused,
            429: ingestRefused,
            503: errorBody,
          },
        },
      },
      async (request, reply) => {
        const source = deps.sources.get(request.params.source);
        if (!source)
          throw new DomainError(
            'not_found',
            'unknown_camera_source',
            `no camera source "${request.params.source}" (integrations.cameras.sources)`,
          );
        const principal = principalOf(request);
        if (principal && principal.role !== 'admin' && principal.name !== source.account) {
          throw new DomainError(
            'forbidden',
            'not_this_integration',
            `${principal.name} is not the account of camera source ${source.id} (${source.account})`,
          );
        }
        const outcome = await source.handle(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
        if (outcome.ignored && outcome.accepted === 0 && outcome.rejected.length === 0)
          return reply.code(200).send({ accepted: 0, rejected: [] });
        const answer = answerIngest(outcome);
        // the device this event is for is over its message budget (ingest/device-charge.ts)
        const retryAfter = retryAfterOf(outcome);
        if (retryAfter !== undefined) reply.header('retry-after', retryAfter);
        return reply.code(answer.status).send(answer.body);
      },
    );
  };
