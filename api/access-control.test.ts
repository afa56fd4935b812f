import type { FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { declaredRoutes } from './access-control.ts';
import { allow, createAuthGuard } from './auth.ts';
import { PUBLIC_ROUTES } from './public-routes.ts';
import { buildApp } from './build-app.ts';

/** Fills route parameters with harmless values, so every route is reached, not a 404. */
const concrete = (url: string): string => url.replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'x');

describe('default deny on /api', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('every /api route declares its access; an anonymous call to each non-public one gets 401', async () => {
    const routes = declaredRoutes(platform.app).filter((r) => r.url.startsWith('/api') || r.url === '/metrics');
    expect(routes.length).toBeGreaterThan(20);
    const undeclared = routes.filter((r) => r.access === undefined);
    expect(undeclared).toEqual([]);
    // the list in public-routes.ts and the routes that are open are the same, both ways (routes opened by a
    // config switch are public only when it is set; it is off by default)
    const open = declaredRoutes(platform.app)
      .filter((r) => r.access === 'public')
      .map((r) => `${r.method} ${r.url}`);
    expect(new Set(open)).toEqual(new Set(PUBLIC_ROUTES.filter((r) => !r.onlyWhen).map((r) => `${r.method} ${r.url}`)));

    for (const route of routes.filter((r) => r.access !== 'public')) {
      const url = concrete(route.url);
      // a real socket: the browser's path, cookies and all; a WebSocket route refuses before the upgrade
      const anonymous = await platform.request(route.method, url, {
        token: null,
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }),
      });
      expect({ route: `${route.method} ${route.url}`, status: anonymous.status }).toEqual({
        route: `${route.method} ${route.url}`,
        status: 401,
      });
      const forged = await platform.request(route.method, url, {
        token: null,
        headers: { cookie: 'ioc_session=forged' },
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }),
      });
      expect({ route: `${route.method} ${url}`, status: forged.status }).toEqual({
        route: `${route.method} ${url}`,
        status: 401,
      });
    }
    const metrics = await platform.request('GET', '/metrics');
    expect(metrics.text).toMatch(/ioc_http_denied_total\{status="401"\} \d+/);
  });

  it('a route that declares no access cannot be registered', async () => {
    const guard = createAuthGuard({ verifyDevice: () => undefined, verifyToken: () => undefined }, false);
    const careless: FastifyPluginAsync = async (app) => {
      app.get('/api/forgotten', async () => ({ secret: true }));
    };
    await expect(
      buildApp({ logger: pino({ level: 'silent' }), routes: [careless], version: 't', access: { guard } }),
    ).rejects.toThrow(/GET \/api\/forgotten declares no access/);
    const declared: FastifyPluginAsync = async (app) => {
      app.get('/api/remembered', { config: allow('admin') }, async () => ({ secret: true }));
    };
    const app = await buildApp({
      logger: pino({ level: 'silent' }),
      routes: [declared],
      version: 't',
      access: { guard },
    });
    expect((await app.inject({ method: 'GET', url: '/api/remembered' })).statusCode).toBe(401);
    await app.close();
  });

  it('a route cannot open itself to the public without being listed in public-routes.ts', async () => {
    const guard = createAuthGuard({ verifyDevice: () => undefined, verifyToken: () => undefined }, false);
    const opened: FastifyPluginAsync = async (app) => {
      app.get('/api/sensors-for-everyone', { config: allow('public') }, async () => ({ secret: true }));
    };
    await expect(
      buildApp({ logger: pino({ level: 'silent' }), routes: [opened], version: 't', access: { guard } }),
    ).rejects.toThrow(/GET \/api\/sensors-for-everyone is public but not listed in api\/public-routes.ts/);
    // the listed method only: POST /api/health is not GET /api/health
    const wrongMethod: FastifyPluginAsync = async (app) => {
      app.post('/api/health', { config: allow('public') }, async () => ({}));
    };
    await expect(
      buildApp({ logger: pino({ level: 'silent' }), routes: [wrongMethod], version: 't', access: { guard } }),
    ).rejects.toThrow(/POST \/api\/health is public but not listed/);
  });
});
