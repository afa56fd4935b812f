import type { FastifyRequest } from 'fastify';
import type { AuthStore, Principal, Role } from '../config/credentials.ts';
import { DomainError } from '../config/domain-error.ts';

/**
 * Operator authentication for HTTP and WebSocket: `Authorization: Bearer <token>`, or `?token=` where a
 * header cannot be set (a browser's WebSocket). The principal is kept beside the request, not merged
 * into Fastify's types.
 */
const principals = new WeakMap<FastifyRequest, Principal>();
const RANK: Record<Principal['role'], number> = { device: 0, operator: 1, admin: 2 };

export interface AuthGuard {
  /** preHandler that requires at least `role` */
  require(role: Role): (request: FastifyRequest) => Promise<void>;
  /** resolves the principal of a request or throws a DomainError */
  authenticate(request: FastifyRequest, role: Role): Principal;
  /** HTTP Basic with a device's own credentials (HTTP ingestion) */
  authenticateDevice(request: FastifyRequest): Principal;
}

export function principalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

export function createAuthGuard(auth: AuthStore, insecure: boolean): AuthGuard {
  const authenticate = (request: FastifyRequest, role: Role): Principal => {
    const token = bearer(request);
    let principal: Principal | undefined = token ? auth.verifyToken(token) : undefined;
    if (!principal && insecure) principal = { role: 'admin', name: 'insecure-dev' };
    if (!principal) {
      throw new DomainError('unauthenticated', token ? 'invalid_token' : 'token_required',
        token ? 'the token is not valid' : 'this endpoint needs an operator token: Authorization: Bearer <token>');
    }
    // kept before the role check: a refusal is audited with who asked (api/audit-http.ts)
    principals.set(request, principal);
    if (RANK[principal.role] < RANK[role]) {
      throw new DomainError('forbidden', 'role_required', `this endpoint needs the ${role} role; the token has ${principal.role}`);
    }
    principals.set(request, principal);
    return principal;
  };
  return {
    authenticate,
    require: (role) => async (request) => {
      authenticate(request, role);
    },
    authenticateDevice(request) {
      const header = request.headers.authorization ?? '';
      if (!header.startsWith('Basic ')) {
        if (insecure) return { role: 'admin', name: 'insecure-dev' };
        throw new DomainError('unauthenticated', 'device_credentials_required', 'send the device username and password with HTTP Basic authentication');
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
