import type { FastifyContextConfig, FastifyRequest } from 'fastify';
import type { Principal, Role } from '../config/credentials.ts';
import { ROLE_RANK } from '../config/accounts/principal.ts';
import type { WebSessions } from '../config/accounts/web-sessions.ts';
import { DomainError } from '../core/domain-error.ts';

/**
 * Who is calling over HTTP. One way per client type: the console sends its session cookie (set by
 * POST /api/session), tools and scripts send `Authorization: Bearer <token>` (a named API token), devices
 * send HTTP Basic with their own secret (HTTP ingestion only). A WebSocket upgrade may carry the token as
 * `?token=` where a client cannot set a header. The principal is kept beside the request, not merged
 * into Fastify's types.
 */
/** `self`: the handler authenticates the request itself and refuses without credentials (InfluxDB-compatible writes) */
export type Access = 'public' | 'self' | 'device' | Role;

/** Route option: `config: allow('operator')`. Every /api route declares one (access-control.ts). */
export const allow = (access: Access): FastifyContextConfig => ({ access }) as FastifyContextConfig;
export const accessOf = (config: unknown): Access | undefined =>
  config && typeof config === 'object' && 'access' in config ? (config as { access?: Access }).access : undefined;

export const SESSION_COOKIE = 'ioc_session';

const principals = new WeakMap<FastifyRequest, Principal>();

export interface AuthGuardSource {
  verifyDevice(username: string, password: string): Principal | undefined;
  verifyToken(token: string): Principal | undefined;
  /** false once the credential was revoked (sessions re-check the account on every request) */
  isCurrent?(principal: Principal): boolean;
}

export interface AuthGuard {
  /** preHandler that requires at least `role` (kept for routes outside /api; /api routes use `allow`) */
  require(role: Role): (request: FastifyRequest) => Promise<void>;
  /** brings the request's console session into memory when another node made it (a cluster); before authenticate */
  prepare(request: FastifyRequest): Promise<void>;
  /** resolves the principal of a request or throws a DomainError */
  authenticate(request: FastifyRequest, role: Role): Principal;
  /** HTTP Basic with a device's own credentials (HTTP ingestion) */
  authenticateDevice(request: FastifyRequest): Principal;
  readonly sessions?: WebSessions;
}

export function principalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  // the query token only where a browser needs it: the upgrade of a WebSocket route (a client-sent
  // Upgrade header on any other route does not make it one)
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return undefined;
  if ((request.routeOptions.config as { websocket?: boolean } | undefined)?.websocket !== true) return undefined;
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

function cookie(request: FastifyRequest): string | undefined {
  const cookies = (request as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies;
  const value = cookies?.[SESSION_COOKIE];
  return value ? value : undefined;
}

export function createAuthGuard(auth: AuthGuardSource, insecure: boolean, sessions?: WebSessions): AuthGuard {
  const fromSession = (id: string): Principal | undefined => {
    const principal = sessions?.principal(id);
    if (principal && auth.isCurrent && !auth.isCurrent(principal)) {
      void sessions?.end(id); // the account was disabled, re-roled or its password reset since sign-in
      return undefined;
    }
    return principal;
  };
  const authenticate = (request: FastifyRequest, role: Role): Principal => {
    const token = bearer(request);
    const sessionId = token ? undefined : cookie(request);
    let principal: Principal | undefined = token
      ? auth.verifyToken(token)
      : sessionId
        ? fromSession(sessionId)
        : undefined;
    if (!principal && insecure) principal = { role: 'admin', name: 'insecure-dev', credential: { scheme: 'insecure' } };
    if (!principal) {
      if (token) throw new DomainError('unauthenticated', 'invalid_token', 'the token is not valid');
      if (sessionId)
        throw new DomainError('unauthenticated', 'session_expired', 'the session has ended: sign in again');
      throw new DomainError(
        'unauthenticated',
        'token_required',
        'sign in (POST /api/session) or send an API token: Authorization: Bearer <token>',
      );
    }
    // kept before the role check: a refusal is audited with who asked (api/audit-http.ts)
    principals.set(request, principal);
    if (ROLE_RANK[principal.role] < ROLE_RANK[role]) {
      throw new DomainError(
        'forbidden',
        'role_required',
        `this needs the ${role} role; ${principal.name} has ${principal.role}`,
      );
    }
    principals.set(request, principal);
    return principal;
  };
  const prepare = async (request: FastifyRequest): Promise<void> => {
    if (!sessions || bearer(request)) return;
    const id = cookie(request);
    if (id) await sessions.load(id);
  };
  return {
    authenticate,
    prepare,
    sessions,
    require: (role) => async (request) => {
      await prepare(request);
      authenticate(request, role);
    },
    authenticateDevice(request) {
      const header = request.headers.authorization ?? '';
      if (!header.startsWith('Basic ')) {
        if (insecure) return { role: 'admin', name: 'insecure-dev', credential: { scheme: 'insecure' } };
        throw new DomainError(
          'unauthenticated',
          'device_credentials_required',
          'send the device username and password with HTTP Basic authentication',
        );
      }
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const principal = colon > 0 ? auth.verifyDevice(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
      if (!principal) throw new DomainError('unauthenticated', 'bad_credentials', 'bad device username or password');
      principals.set(request, principal);
      return principal;
    },
  };
}
