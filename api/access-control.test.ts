import type { FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { declaredRoutes } from './access-control.ts';
import { allow, createAuthGuard } from './auth.ts';
import { buildApp } from './build-app.ts';

/** Fills route parameters with harmless values, so every route is reached, not a 404. */
const concrete = (url: string): string => url.replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'x');
// /api/provision: a field technician has no account; the one-time code is the credential (rate-limited)
const PUBLIC = ['/api/health', '/api/alerts/cap', '/api/alerts/cap/:id', '/api/openapi.json', '/api/session', '/api/provision'];

describe('default deny on /api', () => {
  let platform: TestPlatform;
  beforeAll(async () => { platform = await startTestPlatform(); });
  afterAll(async () => { await platform?.stop(); });

  it('every /api route declares its access, and an anonymous call to each non-public one is refused with 401', async () => {
    const routes = declaredRoutes(platform.app).filter((r) => r.url.startsWith('/api') || r.url === '/metrics');
    expect(routes.length).toBeGreaterThan(20);
    const undeclared = routes.filter((r) => r.access === undefined);
    expect(undeclared).toEqual([]);
    const open = routes.filter((r) => r.access === 'public').map((r) => r.url);
    expect(new Set(open)).toEqual(new Set(PUBLIC));

    for (const route of routes.filter((r) => r.access !== 'public')) {
      const url = concrete(route.url);
      // a real socket: the browser's path, cookies and all; a WebSocket route refuses before the upgrade
      const anonymous = await platform.request(route.method, url, { token: null, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }) });
      expect({ route: `${route.method} ${route.url}`, status: anonymous.status }).toEqual({ route: `${route.method} ${route.url}`, status: 401 });
      const forged = await platform.request(route.method, url, { token: null, headers: { cookie: 'ioc_session=forged' }, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }) });
      expect({ route: `${route.method} ${url}`, status: forged.status }).toEqual({ route: `${route.method} ${url}`, status: 401 });
    }
    const metrics = await platform.request('GET', '/metrics');
    expect(metrics.text).toMatch(/ioc_http_denied_total\{status="401"\} \d+/);
  });

  it('a route that declares no access cannot be registered', async () => {
    const guard = createAuthGuard({ verifyDevice: () => undefined, verifyToken: () => undefined }, false);
    const careless: FastifyPluginAsync = async (app) => {
      app.get('/api/forgotten', async () => ({ secret: true }));
    };
    await expect(buildApp({ logger: pino({ level: 'silent' }), routes: [careless], version: 't', access: { guard } }))
      .rejects.toThrow(/GET \/api\/forgotten declares no access/);
    const declared: FastifyPluginAsync = async (app) => {
      app.get('/api/remembered', { config: allow('admin') }, async () => ({ secret: true }));
    };
    const app = await buildApp({ logger: pino({ level: 'silent' }), routes: [declared], version: 't', access: { guard } });
    expect((await app.inject({ method: 'GET', url: '/api/remembered' })).statusCode).toBe(401);
    await app.close();
  });
});
