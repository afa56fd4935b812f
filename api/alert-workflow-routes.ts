import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Alert } from '../alerts/alert-model.ts';
import type { AlertService } from '../alerts/alert-service-api.ts';
import type { Actor, WorkflowService } from '../alerts/workflow/workflow-service.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { DomainError } from '../core/domain-error.ts';
import type { Operations } from '../config/operations-config.ts';
import { recordRequest } from './audit-http.ts';
import { allow, principalOf } from './auth.ts';
import { alertBody, presentAlert } from './alerts-schemas.ts';
import { errorBody } from './errors.ts';

/**
 * The handling workflow over HTTP (docs/operations-workflow.md): start work, reassign, tick SOP steps, read
 * the procedure, and the agencies. Acknowledge and resolve stay at /api/alerts/:id/ack and /resolve
 * (alerts-routes.ts), which go through the same workflow. Glue only: alerts/workflow/ decides.
 */
export interface AlertWorkflowRoutesDeps {
  alerts: Pick<AlertService, 'get'>;
  workflow: WorkflowService;
  ops: Operations;
  /** whether an account holds the IOC duty role (config/accounts: `iocDuty`) */
  isOnDuty(account: string): boolean;
  audit?: AuditRecorder;
}

const idParam = z.object({ id: z.string().min(1).max(128) });
const note = z.string().trim().min(1).max(2000);
const agencyOut = z.object({
  id: z.string(),
  name: z.object({ vi: z.string(), en: z.string() }),
  district: z.string().optional(),
  escalatesTo: z.string().optional(),
  members: z.array(z.string()),
  channels: z.object({ console: z.boolean(), mqttTopic: z.string().optional(), webhook: z.boolean() }),
  hours: z.object({ days: z.array(z.string()), from: z.string(), to: z.string() }),
});
const sopOut = z.object({
  type: z.string(),
  lang: z.enum(['vi', 'en']),
  title: z.string(),
  steps: z.array(
    z.object({
      id: z.string(),
      text: z.string(),
      who: z.string(),
      links: z.array(z.object({ label: z.string(), url: z.string() })),
      phones: z.array(z.object({ label: z.string(), number: z.string() })),
      done: z.object({ by: z.string(), at: z.number() }).optional(),
    }),
  ),
});

export function actorOf(request: FastifyRequest, isOnDuty: (account: string) => boolean): Actor {
  const name = principalOf(request)?.name ?? 'operator';
  return { name, iocDuty: isOnDuty(name) };
}

/** Runs a workflow action; a refusal for another agency's alert is audited as a failure, then rethrown. */
export async function auditedAction(
  audit: AuditRecorder | undefined,
  request: FastifyRequest,
  action: string,
  target: string,
  run: () => Promise<Alert>,
  details: Record<string, unknown> = {},
  /** the alert as it was, so the entry says what changed (before and after) */
  before?: Alert,
): Promise<Alert> {
  let alert: Alert;
  try {
    alert = await run();
  } catch (err) {
    if (err instanceof DomainError && err.category === 'forbidden')
      await recordRequest(audit, request, { action, target, outcome: 'failure', details: { code: err.code } });
    throw err;
  }
  await recordRequest(audit, request, {
    action,
    target,
    details: {
      ...(before ? { before: { state: before.state, agencyId: before.workflow?.agencyId } } : {}),
      after: { state: alert.state, agencyId: alert.workflow?.agencyId },
      ...details,
    },
  });
  return alert;
}

export const alertWorkflowRoutes =
  (deps: AlertWorkflowRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const { workflow, ops } = deps;
    const actor = (request: FastifyRequest) => actorOf(request, deps.isOnDuty);
    const ok = {
      200: z.object({ alert: alertBody }),
      400: errorBody,
      401: errorBody,
      403: errorBody,
      404: errorBody,
      409: errorBody,
    };

    api.get(
      '/api/agencies',
      {
        config: allow('viewer'),
        schema: {
          tags: ['workflow'],
          summary: 'The agencies alerts are routed to, and which the caller belongs to',
          response: {
            200: z.object({
              agencies: z.array(agencyOut),
              dutyDesk: z.string(),
              me: z.object({ name: z.string(), agencies: z.array(z.string()), iocDuty: z.boolean() }),
            }),
            401: errorBody,
          },
        },
      },
      async (request) => {
        const me = actor(request);
        return {
          dutyDesk: ops.dutyDesk,
          me: {
            name: me.name,
            iocDuty: me.iocDuty,
            agencies: ops.agencies.filter((a) => a.members.includes(me.name)).map((a) => a.id),
          },
          // the webhook's address and secret stay inside: only whether there is one
          agencies: ops.agencies.map((a) => ({
            id: a.id,
            name: a.name,
            district: a.district,
            escalatesTo: a.escalatesTo,
            members: [...a.members],
            channels: {
              console: a.channels.console,
              mqttTopic: a.channels.mqttTopic,
              webhook: a.channels.webhook !== undefined,
            },
            hours: { days: [...a.hours.days], from: a.hours.from, to: a.hours.to },
          })),
        };
      },
    );

    api.post(
      '/api/alerts/:id/start',
      {
        config: allow('operator'),
        schema: {
          tags: ['workflow'],
          summary: 'Start work on an acknowledged alert (in progress)',
          description:
            '409 when the alert is not acknowledged yet, already in progress, pending or resolved; 403 when ' +
            "it is another agency's.",
          params: idParam,
          body: z.object({ note: note.optional() }).strict().nullish(),
          response: ok,
        },
      },
      async (request) => {
        const n = request.body?.note;
        const before = await deps.alerts.get(request.params.id);
        const alert = await auditedAction(
          deps.audit,
          request,
          'alert.start',
          request.params.id,
          () => workflow.start(request.params.id, actor(request), n),
          n ? { note: n } : {},
          before,
        );
        return { alert: presentAlert(alert) };
      },
    );

    api.post(
      '/api/alerts/:id/assign',
      {
        config: allow('operator'),
        schema: {
          tags: ['workflow'],
          summary: 'Reassign an alert to an agency or a person, with a note',
          params: idParam,
          body: z
            .object({
              agencyId: z.string().min(1).max(64).optional(),
              assignee: z.string().min(1).max(64).optional(),
              note,
            })
            .strict()
            .refine((b) => b.agencyId !== undefined || b.assignee !== undefined, 'give agencyId, assignee or both'),
          response: ok,
        },
      },
      async (request) => {
        const { agencyId, assignee, note: n } = request.body;
        const before = (await deps.alerts.get(request.params.id))?.workflow;
        const alert = await auditedAction(
          deps.audit,
          request,
          'alert.assign',
          request.params.id,
          () => workflow.assign(request.params.id, actor(request), { agencyId, assignee }, n),
          { before: { agencyId: before?.agencyId, assignee: before?.assignee }, to: { agencyId, assignee }, note: n },
        );
        return { alert: presentAlert(alert) };
      },
    );

    api.post(
      '/api/alerts/:id/steps/:stepId',
      {
        config: allow('operator'),
        schema: {
          tags: ['workflow'],
          summary: "Tick off a step of the alert's procedure (SOP)",
          params: idParam.extend({ stepId: z.string().min(1).max(64) }),
          response: ok,
        },
      },
      async (request) => {
        const { id, stepId } = request.params;
        const alert = await auditedAction(
          deps.audit,
          request,
          'alert.step',
          id,
          () => workflow.tickStep(id, actor(request), stepId),
          { stepId },
        );
        return { alert: presentAlert(alert) };
      },
    );

    api.get(
      '/api/alerts/:id/sop',
      {
        config: allow('viewer'),
        schema: {
          tags: ['workflow'],
          summary: "The procedure for the alert's type, with the steps ticked off so far",
          params: idParam,
          querystring: z.object({ lang: z.enum(['vi', 'en']).default('vi') }),
          response: { 200: z.object({ sop: sopOut.nullable() }), 401: errorBody, 404: errorBody },
        },
      },
      async (request) => {
        const alert = await deps.alerts.get(request.params.id);
        if (!alert) throw new DomainError('not_found', 'alert_not_found', `no alert "${request.params.id}"`);
        const lang = request.query.lang;
        const sop = workflow.sopOf(alert, lang);
        if (!sop) return { sop: null };
        const done = new Map((alert.workflow?.steps ?? []).map((s) => [s.stepId, s]));
        return {
          sop: {
            type: alert.subCategory,
            lang,
            title: sop.title,
            steps: sop.steps.map((s) => {
              const d = done.get(s.id);
              return {
                id: s.id,
                text: s.text,
                who: s.who,
                links: s.links.map((l) => ({ ...l })),
                phones: s.phones.map((p) => ({ ...p })),
                ...(d ? { done: { by: d.by, at: d.at } } : {}),
              };
            }),
          },
        };
      },
    );
  };
