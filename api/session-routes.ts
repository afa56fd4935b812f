import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { LiveAuth } from '../config/accounts/live-auth.ts';
import { addressKey, type LoginGate, type LoginLimit } from '../config/accounts/login-limiter.ts';
import { burnPasswordCheck, verifyPassword } from '../config/accounts/secrets.ts';
import type { WebSessions } from '../config/accounts/web-sessions.ts';
import type { Clock } from '../core/clock.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { createBoundedAudit } from '../audit/bounded-audit.ts';
import { recordRequest } from './audit-http.ts';
import { allow, principalOf, SESSION_COOKIE } from './auth.ts';
import { errorBody } from './errors.ts';

/**
 * Console sign-in: POST /api/session (username + password -> httpOnly, SameSite=Strict cookie, Secure over
 * TLS), GET /api/session (who am I), DELETE /api/session (sign out). Failed attempts are limited per
 * account and per address, logged without the password, and counted by reason.
 */
export interface SessionRoutesDeps {
  auth: Pick<LiveAuth, 'account' | 'sweep'>;
  sessions: WebSessions;
  /** the node's own limiter, or in a cluster the shared one (cluster/shared-limits.ts) */
  limiter: LoginGate;
  clock: Clock;
  registry: Registry;
  audit?: AuditRecorder;
  /** sign-ins refused over the limit audited per address and minute (audit.authFailuresPerMinute), then summed */
  auditPerMinute?: number;
}

/** the audit action of a sign-in refused by the limiter (429), bounded by audit/bounded-audit.ts */
export const SIGN_IN_LIMITED_ACTION = 'auth.rate_limited';

const loginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict();
const sessionInfo = z.object({
  name: z.string(),
  role: z.enum(['viewer', 'operator', 'admin']),
  via: z.enum(['session', 'token', 'insecure']),
  expiresAt: z.string().optional(),
});

const LIMIT_TEXT: Record<LoginLimit, string> = {
  account_address: 'for this account from this address',
  address: 'from this address',
  account: 'for this account from addresses it has not signed in from',
};

type FailureReason = 'unknown_account' | 'bad_password' | 'disabled' | 'no_password' | 'rate_limited';

export const sessionRoutes =
  (deps: SessionRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const failures = new Counter({
      name: 'ioc_login_failures_total',
      help: 'Refused console sign-ins, by reason',
      labelNames: ['reason'],
      registers: [deps.registry],
    });
    for (const reason of ['unknown_account', 'bad_password', 'disabled', 'no_password', 'rate_limited'])
      failures.inc({ reason }, 0);
    // each 429 is audited, but a guessing loop past the limit must not flood the audit log: per address and
    // minute a few entries, then one audit.suppressed summary of how many more
    const limitedAudit = createBoundedAudit({
      audit: deps.audit,
      clock: deps.clock,
      action: SIGN_IN_LIMITED_ACTION,
      perWindow: deps.auditPerMinute ?? 10,
    });
    app.addHook('onClose', async () => {
      await limitedAudit.close();
    });

    const refuse = (request: FastifyRequest, reply: FastifyReply, username: string, reason: FailureReason) => {
      failures.inc({ reason });
      // the name as typed (bounded), never the password; the same answer for every reason but the limit
      request.log.warn({ username: username.slice(0, 64), from: request.ip, reason }, 'sign-in refused');
      // counted already by limiter.attempt, which bounds these per account and address, so they cannot flood the log
      void recordRequest(deps.audit, request, {
        action: 'auth.failure',
        outcome: 'failure',
        target: 'POST /api/session',
        details: { username: username.slice(0, 64), reason },
      });
      return reply.code(401).send({ code: 'bad_credentials', message: 'wrong username or password' });
    };

    api.post(
      '/api/session',
      {
        config: allow('public'),
        schema: {
          tags: ['session'],
          summary: 'Sign in with a username and password (sets the session cookie)',
          body: loginBody,
          response: { 200: sessionInfo, 400: errorBody, 401: errorBody, 429: errorBody },
        },
      },
      async (request, reply) => {
        const { username, password } = request.body;
        const verdict = await deps.limiter.attempt(username, request.ip);
        if (verdict.waitMs > 0 && 'limit' in verdict) {
          failures.inc({ reason: 'rate_limited' });
          // once per limited key and window: a flood of guesses is counted, not written line by line
          if (verdict.first)
            request.log.warn(
              { username: username.slice(0, 64), from: request.ip, reason: 'rate_limited', limit: verdict.limit },
              'sign-in refused',
            );
          limitedAudit.record(addressKey(request.ip), {
            actor: { name: 'anonymous', role: 'anonymous' },
            address: request.ip,
            action: SIGN_IN_LIMITED_ACTION,
            outcome: 'failure',
            target: 'POST /api/session',
            details: { username: username.slice(0, 64), reason: 'rate_limited', limit: verdict.limit },
          });
          const s = Math.ceil(verdict.waitMs / 1000);
          return reply
            .code(429)
            .header('retry-after', s)
            .send({
              code: 'too_many_attempts',
              message: `too many failed sign-ins ${LIMIT_TEXT[verdict.limit]}: try again in ${s} s`,
            });
        }
        const account = deps.auth.account(username);
        if (!account?.password) {
          await burnPasswordCheck(password);
          return refuse(request, reply, username, account ? 'no_password' : 'unknown_account');
        }
        if (!(await verifyPassword(account.password, password)))
          return refuse(request, reply, username, 'bad_password');
        if (account.disabled) return refuse(request, reply, username, 'disabled');
        // another system's account sends its dialect with a token; it has no console
        if (account.role === 'integration') return refuse(request, reply, username, 'disabled');
        await deps.limiter.succeeded(username, request.ip);
        const created = deps.sessions.create(account.name, account.role, account.passwordSetAt);
        // in a cluster the next request may reach another node: answer once the shared store has the session
        await created.stored;
        reply.setCookie(SESSION_COOKIE, created.id, {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
          maxAge: Math.max(1, Math.floor((created.expiresAt - deps.clock.now()) / 1000)),
        });
        request.log.info({ account: account.name, from: request.ip }, 'signed in');
        await recordRequest(deps.audit, request, {
          actor: { name: account.name, role: account.role },
          action: 'session.login',
          target: account.name,
          details: { expiresAt: new Date(created.expiresAt).toISOString() },
        });
        return reply.header('cache-control', 'no-store').send({
          name: account.name,
          role: account.role,
          via: 'session',
          expiresAt: new Date(created.expiresAt).toISOString(),
        });
      },
    );

    api.get(
      '/api/session',
      {
        config: allow('viewer'),
        schema: {
          tags: ['session'],
          summary: 'Who am I: the account and role of this request',
          response: { 200: sessionInfo, 401: errorBody },
        },
      },
      async (request, reply) => {
        const p = principalOf(request)!;
        // unreachable: devices and integrations never pass allow('viewer')
        const role = p.role === 'device' || p.role === 'integration' ? 'viewer' : p.role;
        const via =
          p.credential?.scheme === 'session' ? 'session' : p.credential?.scheme === 'token' ? 'token' : 'insecure';
        return reply.header('cache-control', 'no-store').send({ name: p.name, role, via });
      },
    );

    api.delete(
      '/api/session',
      {
        config: allow('viewer'),
        schema: {
          tags: ['session'],
          summary: 'Sign out: ends this session',
          response: { 204: z.null(), 401: errorBody },
        },
      },
      async (request, reply) => {
        const id = (request as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.[
          SESSION_COOKIE
        ];
        if (id) {
          await deps.sessions.end(id);
          deps.auth.sweep(); // the alert stream this browser opened with the cookie closes too
        }
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        await recordRequest(deps.audit, request, { action: 'session.logout', target: principalOf(request)?.name });
        return reply.code(204).send(null);
      },
    );
  };
