import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertService } from '../alerts/alert-service-api.ts';
import { ruleSchema } from '../alerts/rule-schema.ts';
import { RULE_KIND_DEPRECATED, usesDeprecatedKind } from '../alerts/rule-type-alias.ts';
import { DomainError } from '../core/domain-error.ts';
import { allow, principalOf, type AuthGuard } from './auth.ts';
import { noteDeprecation } from './deprecation-headers.ts';
import { errorBody } from './errors.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { recordRequest } from './audit-http.ts';

export interface RulesRoutesDeps {
  alerts: Pick<AlertService, 'rules'>;
  guard: AuthGuard;
  audit?: AuditRecorder;
}

// The engine validates a rule itself and names every bad field (DomainError rule_invalid with details), so
// the body is taken as any JSON object here and the rule schema only documents it.
const ruleInput = z
  .record(z.string(), z.unknown())
  .describe(
    'a rule: see the Rule schema and docs/alerts-api.md. Its `type` may still be sent as `kind` (deprecated: ' +
      'the answer then carries a `Deprecation` and a `Warning` header); both with different values is refused',
  );
const idParam = z.object({ id: z.string().min(1).max(64) });

/** A client that sends a rule's `kind` learns, in the answer's headers, that the name is deprecated. */
function noteDeprecatedKind(body: unknown, reply: FastifyReply): void {
  if (usesDeprecatedKind(body)) noteDeprecation(reply, RULE_KIND_DEPRECATED);
}

/** Rules CRUD: anyone with an operator token may read; changes need the admin role and apply at once. */
export const rulesRoutes =
  (deps: RulesRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const { rules } = deps.alerts;
    const api = app.withTypeProvider<ZodTypeProvider>();
    const by = (request: Parameters<typeof principalOf>[0]): string => principalOf(request)?.name ?? 'admin';

    api.get(
      '/api/rules',
      {
        config: allow('viewer'),
        schema: {
          tags: ['rules'],
          summary: 'All rules in force (shipped files and API changes)',
          response: { 200: z.object({ rules: z.array(ruleSchema) }), 401: errorBody },
        },
      },
      async () => ({ rules: rules.list() }),
    );

    api.get(
      '/api/rules/:id',
      {
        config: allow('viewer'),
        schema: {
          tags: ['rules'],
          summary: 'One rule',
          params: idParam,
          response: { 200: ruleSchema, 401: errorBody, 404: errorBody },
        },
      },
      async (request) => {
        const rule = rules.get(request.params.id);
        if (!rule) throw new DomainError('not_found', 'rule_not_found', `no rule "${request.params.id}"`);
        return rule;
      },
    );

    api.post(
      '/api/rules',
      {
        config: allow('admin'),
        schema: {
          tags: ['rules'],
          summary: 'Add a rule (admin)',
          description: '409 when a rule with this id exists: PUT /api/rules/{id} replaces one.',
          body: ruleInput,
          response: { 201: ruleSchema, 400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody },
        },
      },
      async (request, reply) => {
        const id = request.body.id;
        if (typeof id === 'string' && rules.get(id)) {
          throw new DomainError(
            'conflict',
            'rule_exists',
            `a rule "${id}" exists already; PUT /api/rules/${id} replaces it`,
          );
        }
        const rule = await rules.put(request.body, by(request));
        await recordRequest(deps.audit, request, { action: 'rule.create', target: rule.id, details: { after: rule } });
        noteDeprecatedKind(request.body, reply);
        return reply.code(201).send(rule);
      },
    );

    api.put(
      '/api/rules/:id',
      {
        config: allow('admin'),
        schema: {
          tags: ['rules'],
          summary: 'Add or replace a rule (admin); its open alerts follow the new rule',
          params: idParam,
          body: ruleInput,
          response: { 200: ruleSchema, 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (request.body.id !== undefined && request.body.id !== id) {
          throw new DomainError(
            'invalid',
            'rule_id_mismatch',
            `the body's id "${String(request.body.id)}" differs from the path's "${id}"`,
          );
        }
        const before = rules.get(id);
        const rule = await rules.put({ ...request.body, id }, by(request));
        await recordRequest(deps.audit, request, {
          action: before ? 'rule.update' : 'rule.create',
          target: id,
          details: { before, after: rule },
        });
        noteDeprecatedKind(request.body, reply);
        return rule;
      },
    );

    api.delete(
      '/api/rules/:id',
      {
        config: allow('admin'),
        schema: {
          tags: ['rules'],
          summary: 'Remove a rule (admin); its open alerts are resolved',
          params: idParam,
          response: { 204: z.null(), 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const before = rules.get(request.params.id);
        await rules.remove(request.params.id, by(request));
        await recordRequest(deps.audit, request, {
          action: 'rule.delete',
          target: request.params.id,
          details: { before },
        });
        return reply.code(204).send(null);
      },
    );
  };
