import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditEntrySchema } from '../audit/audit-entry.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { CSV_HEADER, csvRow, queryAudit, walkAudit, type AuditFilter } from '../audit/audit-query.ts';
import { DomainError } from '../core/domain-error.ts';
import { parseTimeParam, queryList } from './alerts-schemas.ts';
import { allow } from './auth.ts';
import { errorBody } from './errors.ts';

export interface AuditRoutesDeps {
  audit: Pick<AuditLog, 'verifyFull' | 'idle'>;
  dir: string;
}

const filterQuery = {
  from: z.string().optional().describe('ISO-8601 or epoch ms, inclusive'),
  to: z.string().optional().describe('ISO-8601 or epoch ms, exclusive'),
  actor: z.string().min(1).max(200).optional().describe("the actor's name, exactly"),
  action: queryList.describe('actions, comma-separated; a prefix of whole words matches (alert = alert.*)'),
};

function filterOf(q: { from?: string; to?: string; actor?: string; action?: string | string[] }): AuditFilter {
  const from = parseTimeParam(q.from, 'from');
  const to = parseTimeParam(q.to, 'to');
  if (from !== undefined && to !== undefined && from >= to)
    throw new DomainError('invalid', 'invalid_range', 'from must be before to');
  const action = (Array.isArray(q.action) ? q.action : q.action?.split(','))?.map((a) => a.trim()).filter(Boolean);
  if (action?.some((a) => !/^[a-z][a-z0-9_.]*$/.test(a) || a.length > 100)) {
    throw new DomainError(
      'invalid',
      'invalid_action',
      'action: dotted lower-case names such as alert.acknowledge or rule',
    );
  }
  return { from, to, actor: q.actor, action };
}

const breakBody = z.object({ file: z.string(), line: z.number(), seq: z.number().optional(), reason: z.string() });

/** The audit log for admins: query (paged, newest first), export (NDJSON or CSV, oldest first), verify. */
export const auditRoutes =
  (deps: AuditRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();

    api.get(
      '/api/audit',
      {
        config: allow('admin'),
        schema: {
          tags: ['audit'],
          summary: 'Audit entries, newest first (admin)',
          description: 'Pages: pass the nextCursor of a page as cursor for the next, older page.',
          querystring: z.object({
            ...filterQuery,
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            cursor: z.coerce.number().int().min(1).optional().describe('entries with a seq below this'),
          }),
          response: {
            200: z.object({ entries: z.array(auditEntrySchema), nextCursor: z.number().optional() }),
            400: errorBody,
            401: errorBody,
            403: errorBody,
          },
        },
      },
      async (request) => {
        await deps.audit.idle();
        return queryAudit(deps.dir, filterOf(request.query), request.query.limit, request.query.cursor);
      },
    );

    api.get(
      '/api/audit/export',
      {
        config: allow('admin'),
        schema: {
          tags: ['audit'],
          summary: 'Export audit entries, oldest first, as NDJSON (the stored lines: verifiable) or CSV (admin)',
          querystring: z.object({ ...filterQuery, format: z.enum(['ndjson', 'csv']).default('ndjson') }),
        },
      },
      async (request, reply) => {
        const filter = filterOf(request.query);
        await deps.audit.idle();
        const csv = request.query.format === 'csv';
        const lines = function* (): Generator<string> {
          if (csv) yield CSV_HEADER;
          for (const { line, entry } of walkAudit(deps.dir, filter)) yield csv ? csvRow(entry) : `${line}\n`;
        };
        reply
          .header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
          .header('content-disposition', `attachment; filename="audit.${csv ? 'csv' : 'ndjson'}"`);
        return reply.send(Readable.from(lines()));
      },
    );

    api.get(
      '/api/audit/verify',
      {
        config: allow('admin'),
        schema: {
          tags: ['audit'],
          summary:
            'Verify the whole hash chain: every break with its file and line, and the head to anchor elsewhere (admin)',
          response: {
            200: z.object({
              ok: z.boolean(),
              entries: z.number(),
              files: z.array(z.string()),
              pending: z.number(),
              head: z.object({ seq: z.number(), hash: z.string() }).optional(),
              breaks: z.array(breakBody),
            }),
            401: errorBody,
            403: errorBody,
          },
        },
      },
      async () => {
        const s = await deps.audit.verifyFull();
        return { ok: s.ok, entries: s.entries, files: s.files, pending: s.pending, head: s.last, breaks: s.breaks };
      },
    );
  };
