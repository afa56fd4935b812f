import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  readSilenceAlias,
  RULE_KIND_MATCH_DEPRECATED,
  silenceInputSchema,
  silenceSchema,
} from '../alerts/workflow/silence-model.ts';
import type { SilenceStore } from '../alerts/workflow/silence-store.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import type { Clock } from '../core/clock.ts';
import { recordRequest } from './audit-http.ts';
import { allow, principalOf } from './auth.ts';
import { noteDeprecation } from './deprecation-headers.ts';
import { errorBody } from './errors.ts';

/**
 * Silences and maintenance windows (alerts/workflow/silence-model.ts): list, add (ad hoc with an end and a
 * reason, or scheduled with cron and a duration), end early. The body is validated by the store, which
 * names the field; the schema here documents it.
 */
export interface SilencesRoutesDeps {
  silences: SilenceStore;
  clock: Clock;
  audit?: AuditRecorder;
}

const silenceOut = silenceSchema.extend({ active: z.boolean().describe('in force now') });

export const silencesRoutes =
  (deps: SilencesRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const { silences, clock } = deps;
    const present = (id: string) => ({ ...silences.get(id)!, active: silences.isActive(id, clock.now()) });

    api.get(
      '/api/silences',
      {
        config: allow('viewer'),
        schema: {
          tags: ['workflow'],
          summary: 'Silences and maintenance windows, with whether each is in force now',
          querystring: z.object({ active: z.enum(['true', 'false']).optional() }),
          response: { 200: z.object({ silences: z.array(silenceOut) }), 401: errorBody },
        },
      },
      async (request) => {
        const all = silences.list().map((s) => present(s.id));
        const want = request.query.active;
        return { silences: want === undefined ? all : all.filter((s) => s.active === (want === 'true')) };
      },
    );

    api.post(
      '/api/silences',
      {
        config: allow('operator'),
        schema: {
          tags: ['workflow'],
          summary: 'Silence alerts, or open a maintenance window (maintenance: true also holds no-data alerts)',
          description:
            'Ad hoc: { match, reason, endsAt }. Scheduled: { match, reason, cron: "0 22 * * 6", ' +
            "durationMinutes: 120 } in the city's time zone. match.ruleKind is the deprecated name of " +
            'match.ruleType (the answer then says so in its headers).',
          body: z
            .record(z.string(), z.unknown())
            .describe(JSON.stringify(z.toJSONSchema(silenceInputSchema, { io: 'input', unrepresentable: 'any' }))),
          response: { 201: silenceOut, 400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody },
        },
      },
      async (request, reply) => {
        const by = principalOf(request)?.name ?? 'operator';
        const silence = silences.add(request.body, by);
        if (readSilenceAlias(request.body).outcome === 'moved') noteDeprecation(reply, RULE_KIND_MATCH_DEPRECATED);
        request.log.info({ silence: silence.id, by, match: silence.match }, 'silence added');
        await recordRequest(deps.audit, request, {
          action: 'silence.create',
          target: silence.id,
          details: { after: silence },
        });
        return reply.code(201).send(present(silence.id));
      },
    );

    api.delete(
      '/api/silences/:id',
      {
        config: allow('operator'),
        schema: {
          tags: ['workflow'],
          summary: 'End a silence now (it stays listed, marked ended)',
          params: z.object({ id: z.string().min(1).max(64) }),
          response: { 200: silenceOut, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request) => {
        const by = principalOf(request)?.name ?? 'operator';
        const ended = silences.end(request.params.id, by);
        await recordRequest(deps.audit, request, {
          action: 'silence.end',
          target: ended.id,
          details: { after: { endedAt: ended.endedAt } },
        });
        return present(ended.id);
      },
    );
  };
