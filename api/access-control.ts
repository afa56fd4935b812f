import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { DomainError } from '../config/domain-error.ts';
import { accessOf, type Access, type AuthGuard } from './auth.ts';

/**
 * Default deny. Every route under /api (and /metrics) must say who may call it with `config: allow(...)`;
 * one that does not fails at registration, so it cannot ship open. One onRequest hook enforces the
 * declaration before anything else runs (body parsing, validation, the WebSocket upgrade).
 */
const ACCESS: ReadonlySet<Access> = new Set(['public', 'device', 'viewer', 'operator', 'admin']);
const mustDeclare = (url: string): boolean => url.startsWith('/api/') || url === '/api' || url === '/metrics';

export async function installAccessControl(app: FastifyInstance, guard: AuthGuard, registry?: Registry): Promise<void> {
  await app.register(fastifyCookie);
  const denied = new Counter({ name: 'ioc_http_denied_total', help: 'HTTP requests refused by access control', labelNames: ['status'], registers: registry ? [registry] : [] });

  app.addHook('onRoute', (route) => {
    const access = accessOf(route.config);
    if (access !== undefined && !ACCESS.has(access)) throw new Error(`route ${route.method} ${route.url}: unknown access "${String(access)}"`);
    if (access === undefined && mustDeclare(route.url)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access: add config: allow('public' | 'viewer' | 'operator' | 'admin' | 'device')`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = accessOf(request.routeOptions.config);
    if (access === undefined || access === 'public') return;
    try {
      if (access === 'device') guard.authenticateDevice(request);
      else guard.authenticate(request, access);
    } catch (err) {
      if (err instanceof DomainError) {
        denied.inc({ status: err.kind === 'forbidden' ? '403' : '401' });
        // a refused credential is worth a line; a request with none is a browser before sign-in
        if (err.code !== 'token_required') request.log.info({ url: request.url.split('?')[0], code: err.code, from: request.ip }, 'request refused');
      }
      throw err;
    }
  });
}
