import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { DomainError } from '../core/domain-error.ts';
import { accessOf, type Access, type AuthGuard } from './auth.ts';
import { isListedPublic, isListedSelfAuthenticated } from './public-routes.ts';

/**
 * Default deny. Every route under /api (and /metrics) must say who may call it with `config: allow(...)`;
 * one that does not fails at registration, so it cannot ship open. `allow('public')` and `allow('self')`
 * (the handler checks credentials itself), which the hook lets through, are accepted only for the routes
 * listed in public-routes.ts. One onRequest hook enforces the declaration before anything else runs (body
 * parsing, validation, the WebSocket upgrade).
 */
const ACCESS: ReadonlySet<Access> = new Set(['public', 'self', 'device', 'viewer', 'operator', 'admin', 'integration']);
const mustDeclare = (url: string): boolean => url.startsWith('/api/') || url === '/api' || url === '/metrics';

export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access | undefined;
  readonly websocket: boolean;
}
const tables = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered after access control was installed, with what it declared (tests walk it). */
export const declaredRoutes = (app: FastifyInstance): readonly DeclaredRoute[] => tables.get(app) ?? [];

export async function installAccessControl(app: FastifyInstance, guard: AuthGuard, registry?: Registry): Promise<void> {
  await app.register(fastifyCookie);
  const denied = new Counter({
    name: 'ioc_http_denied_total',
    help: 'HTTP requests refused by access control',
    labelNames: ['status'],
    registers: registry ? [registry] : [],
  });

  const table: DeclaredRoute[] = [];
  tables.set(app, table);
  app.addHook('onRoute', (route) => {
    // auth.ts takes a ?token= only on a WebSocket route (browsers cannot set headers on an upgrade)
    if ((route as { websocket?: boolean }).websocket === true)
      route.config = { ...(route.config ?? {}), websocket: true } as typeof route.config;
    const access = accessOf(route.config);
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD')
        table.push({
          method,
          url: route.url,
          access,
          websocket: (route as { websocket?: boolean }).websocket === true,
        });
    }
    if (access !== undefined && !ACCESS.has(access))
      throw new Error(`route ${route.method} ${route.url}: unknown access "${String(access)}"`);
    if (access === 'public') {
      const unlisted = [route.method].flat().filter((m) => !isListedPublic(m, route.url));
      if (unlisted.length > 0) {
        throw new Error(`route ${unlisted.join(',')} ${route.url} is public but not listed in api/public-routes.ts`);
      }
    }
    if (access === 'self') {
      const unlisted = [route.method].flat().filter((m) => !isListedSelfAuthenticated(m, route.url));
      if (unlisted.length > 0) {
        throw new Error(
          `route ${unlisted.join(',')} ${route.url} authenticates itself but is not listed in ` +
            'SELF_AUTHENTICATED_ROUTES (api/public-routes.ts)',
        );
      }
    }
    if (access === undefined && mustDeclare(route.url)) {
      throw new Error(
        `route ${String(route.method)} ${route.url} declares no access: add config: allow('public' | 'self' | ` +
          `'viewer' | 'operator' | 'admin' | 'device')`,
      );
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = accessOf(request.routeOptions.config);
    if (access === undefined || access === 'public' || access === 'self') return;
    if (access !== 'device') await guard.prepare(request);
    try {
      if (access === 'device') guard.authenticateDevice(request);
      else guard.authenticate(request, access);
    } catch (err) {
      if (err instanceof DomainError) {
        denied.inc({ status: err.category === 'forbidden' ? '403' : '401' });
        // a refused credential is worth a line; a request with none is a browser before sign-in
        if (err.code !== 'token_required')
          request.log.info({ url: request.url.split('?')[0], code: err.code, from: request.ip }, 'request refused');
      }
      throw err;
    }
  });
}
