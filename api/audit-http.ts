import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { AuditInput } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { createAuditSuppression } from '../audit/audit-suppression.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/domain-error.ts';
import { principalOf } from './auth.ts';

/**
 * HTTP glue of the audit log: who and from where a request came, and two hooks on every route:
 * refused credentials (401/403) become `auth.failure` entries, and any successful POST/PUT/PATCH/DELETE
 * under /api that its route did not record itself becomes an `http.<method>` entry, so a route added
 * later is never silently missing from the log (device ingestion excepted: readings are not changes).
 */
const recorded = new WeakSet<FastifyRequest>();
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NOT_STATE_CHANGES = [/^\/api\/ingest\//, /^\/api\/v2\/write$/];

export function auditActorOf(request: FastifyRequest): AuditInput['actor'] {
  const p = principalOf(request);
  return p ? { name: p.name, role: p.role } : { name: 'anonymous', role: 'anonymous' };
}

/**
 * Records a state change made by this request (address from the request; actor too unless given: a
 * sign-in names the account it signs into, which is not yet the request's principal).
 */
export function recordRequest(
  audit: AuditRecorder | undefined,
  request: FastifyRequest,
  input: Omit<AuditInput, 'actor' | 'address'> & { actor?: AuditInput['actor'] },
): Promise<unknown> {
  recorded.add(request);
  return (
    audit?.record({ ...input, actor: input.actor ?? auditActorOf(request), address: request.ip }) ?? Promise.resolve()
  );
}

export interface AuditHooksDeps {
  audit: AuditRecorder;
  clock: Clock;
  registry?: Registry;
  logger: { warn(obj: object, msg: string): void };
  /** auth failures written (and logged) per address and minute; the rest are only counted */
  authFailuresPerMinute: number;
}

export function auditHooks(deps: AuditHooksDeps): FastifyPluginAsync {
  const failures = new Counter({
    name: 'ioc_http_auth_failures_total',
    help: 'HTTP requests refused for missing, bad or insufficient credentials, by code',
    labelNames: ['code'],
    registers: deps.registry ? [deps.registry] : [],
  });
  const suppressed = new Counter({
    name: 'ioc_audit_auth_failures_suppressed_total',
    help: 'Auth failures over the per-address limit: counted, not written to the audit log',
    registers: deps.registry ? [deps.registry] : [],
  });
  // per address: a password-guessing loop must not turn the audit log (an fsync each) into its amplifier;
  // what is held back becomes one summary entry per address and minute (audit/audit-suppression.ts)
  const bound = createAuditSuppression({
    audit: deps.audit,
    clock: deps.clock,
    action: 'auth.failure',
    perWindow: deps.authFailuresPerMinute,
  });
  const allow = (address: string): boolean => bound.admit(address);

  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onClose', async () => {
      await bound.close();
    });
    app.addHook('onError', async (request, _reply, err) => {
      if (!(err instanceof DomainError) || (err.category !== 'unauthenticated' && err.category !== 'forbidden')) return;
      failures.inc({ code: err.code });
      recorded.add(request);
      if (!allow(request.ip)) {
        suppressed.inc();
        return;
      }
      const target = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
      deps.logger.warn({ address: request.ip, code: err.code, target }, 'HTTP request refused: credentials');
      await deps.audit.record({
        actor: auditActorOf(request),
        address: request.ip,
        action: 'auth.failure',
        outcome: 'failure',
        target,
        details: { code: err.code },
      });
    });
    app.addHook('onResponse', async (request, reply) => {
      if (!MUTATING.has(request.method) || recorded.has(request) || reply.statusCode >= 400) return;
      const route = request.routeOptions.url ?? '';
      if (!route.startsWith('/api/') || NOT_STATE_CHANGES.some((re) => re.test(route))) return;
      await recordRequest(deps.audit, request, {
        action: `http.${request.method.toLowerCase()}`,
        target: route,
        details: { params: request.params, status: reply.statusCode },
      });
    });
  };
  // hooks on every route, not only this plugin's: Fastify's documented opt-out of encapsulation
  // (what fastify-plugin sets; not a declared dependency here)
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
