import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  addAccount,
  createToken,
  presentAccount,
  presentToken,
  revokeToken,
  setDisabled,
  setIocDuty,
  setPassword,
  setRole,
} from '../config/accounts/account-changes.ts';
import { accountNameSchema, passwordSchema, roleSchema } from '../config/accounts/auth-file.ts';
import type { LiveAuth } from '../config/accounts/live-auth.ts';
import { hashPassword } from '../config/accounts/secrets.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/domain-error.ts';
import type { AuditRecorder } from '../audit/audit-log.ts';
import { recordRequest } from './audit-http.ts';
import { allow, principalOf } from './auth.ts';
import { errorBody } from './errors.ts';

/**
 * Accounts and their API tokens (admin). Changes go to auth.json and take effect at once: a disabled
 * account, a reset password or a revoked token closes what it had open (live-auth.ts).
 */
export interface AccountsRoutesDeps {
  auth: Pick<LiveAuth, 'accounts' | 'account' | 'tokensOf' | 'change'>;
  clock: Clock;
  audit?: AuditRecorder;
  /** the city's sensor ids: an account may not be named like one (config/accounts/account-name-policy.ts) */
  sensorIds: () => Iterable<string>;
}

const tokenOut = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
});
const accountOut = z.object({
  name: z.string(),
  role: roleSchema,
  disabled: z.boolean(),
  hasPassword: z.boolean(),
  iocDuty: z.boolean(),
  createdAt: z.string(),
  tokens: z.array(tokenOut),
});
const nameParam = z.object({ name: z.string().min(1).max(64) });
const createBody = z
  .object({
    name: accountNameSchema,
    role: roleSchema,
    password: passwordSchema.optional(),
    iocDuty: z.boolean().optional(),
  })
  .strict();
const patchBody = z
  .object({
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
    password: passwordSchema.optional(),
    iocDuty: z.boolean().optional(),
  })
  .strict()
  .refine(
    (b) => b.role !== undefined || b.disabled !== undefined || b.password !== undefined || b.iocDuty !== undefined,
    'give at least one of role, disabled, password, iocDuty',
  );
const tokenBody = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a token name is 1-64 letters, digits, ".", "_" or "-"'),
    expiresInDays: z.number().int().min(1).max(3650).optional().describe('default: never expires'),
  })
  .strict();

export const accountsRoutes =
  (deps: AccountsRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const { auth, clock } = deps;
    const now = () => new Date(clock.now());
    const present = (name: string) => presentAccount(auth.account(name)!, auth.tokensOf(name));
    const audit = async (
      request: Parameters<typeof principalOf>[0],
      action: string,
      target: string,
      details?: Record<string, unknown>,
    ) => {
      request.log.info({ by: principalOf(request)?.name, from: request.ip, action, target }, 'account change');
      await recordRequest(deps.audit, request, { action, target, details });
    };
    const shape = (name: string) => {
      const a = auth.account(name);
      return a ? { role: a.role, disabled: a.disabled ?? false, iocDuty: a.iocDuty === true } : undefined;
    };

    api.get(
      '/api/accounts',
      {
        config: allow('admin'),
        schema: {
          tags: ['accounts'],
          summary: 'All accounts with their tokens (never a secret or hash)',
          response: { 200: z.object({ accounts: z.array(accountOut) }), 401: errorBody, 403: errorBody },
        },
      },
      async () => ({ accounts: auth.accounts.map((a) => present(a.name)) }),
    );

    api.post(
      '/api/accounts',
      {
        config: allow('admin'),
        schema: {
          tags: ['accounts'],
          summary: 'Create an account',
          body: createBody,
          response: { 201: accountOut, 400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody },
        },
      },
      async (request, reply) => {
        const { name, role, password, iocDuty } = request.body;
        const passwordHash = password ? await hashPassword(password) : undefined;
        try {
          auth.change((file) => addAccount(file, { name, role, passwordHash, iocDuty }, now(), deps.sensorIds()));
        } catch (err) {
          // an admin's mistake, not a flood: each such refusal is worth its line
          if (err instanceof DomainError && err.code === 'account_name_is_sensor')
            request.log.warn(
              { by: principalOf(request)?.name, from: request.ip, name, reason: err.code },
              'account refused',
            );
          throw err;
        }
        await audit(request, 'account.create', name, {
          after: { ...shape(name), hasPassword: password !== undefined },
        });
        return reply.code(201).send(present(name));
      },
    );

    api.patch(
      '/api/accounts/:name',
      {
        config: allow('admin'),
        schema: {
          tags: ['accounts'],
          summary: 'Change role, disable or enable, reset the password, grant or withdraw IOC duty',
          description:
            "Disabling, re-roling or a new password ends the account's sessions and live connections at once.",
          params: nameParam,
          body: patchBody,
          response: { 200: accountOut, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request) => {
        const { name } = request.params;
        if (!auth.account(name)) throw new DomainError('not_found', 'account_not_found', `no account named ${name}`);
        const { role, disabled, password, iocDuty } = request.body;
        const passwordHash = password ? await hashPassword(password) : undefined;
        const before = shape(name);
        auth.change((file) => {
          if (role !== undefined) setRole(file, name, role);
          if (disabled !== undefined) setDisabled(file, name, disabled);
          if (passwordHash) setPassword(file, name, passwordHash, now());
          if (iocDuty !== undefined) setIocDuty(file, name, iocDuty);
        });
        // never the password: only that it was reset
        await audit(request, 'account.update', name, {
          before,
          after: shape(name),
          ...(password ? { passwordReset: true } : {}),
        });
        return present(name);
      },
    );

    api.get(
      '/api/accounts/:name/tokens',
      {
        config: allow('admin'),
        schema: {
          tags: ['accounts'],
          summary: "The account's API tokens (without secrets)",
          params: nameParam,
          response: { 200: z.object({ tokens: z.array(tokenOut) }), 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (request) => {
        if (!auth.account(request.params.name))
          throw new DomainError('not_found', 'account_not_found', `no account named ${request.params.name}`);
        return { tokens: auth.tokensOf(request.params.name).map(presentToken) };
      },
    );

    api.post(
      '/api/accounts/:name/tokens',
      {
        config: allow('admin'),
        schema: {
          tags: ['accounts'],
          summary: 'Create a named API token: the secret is in this response only',
          params: nameParam,
          body: tokenBody,
          response: {
            201: tokenOut.extend({ token: z.string() }),
            400: errorBody,
            401: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (request, reply) => {
        const { name: account } = request.params;
        const { name, expiresInDays } = request.body;
        const at = now();
        const expiresAt = expiresInDays ? new Date(at.getTime() + expiresInDays * 86_400_000) : null;
        const created = auth.change((file) => createToken(file, account, name, expiresAt, at));
        await audit(request, 'token.create', `${account}/${name}`, {
          after: { id: created.id, name, expiresAt: created.expiresAt },
        });
        return reply.code(201).header('cache-control', 'no-store').send({
          id: created.id,
          name,
          createdAt: at.toISOString(),
          expiresAt: created.expiresAt,
          token: created.token,
        });
      },
    );

    api.delete(
      '/api/accounts/:name/tokens/:token',
      {
        config: allow('admin'),
        schema: {
          tags: ['accounts'],
          summary: 'Revoke a token (by id or name): refused at once, its live streams closed',
          params: nameParam.extend({ token: z.string().min(1).max(64) }),
          response: { 204: z.null(), 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const revoked = auth.change((file) => revokeToken(file, request.params.name, request.params.token));
        await audit(request, 'token.revoke', `${request.params.name}/${revoked.name}`, {
          before: { name: revoked.name },
        });
        return reply.code(204).send(null);
      },
    );
  };
