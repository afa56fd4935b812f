import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLiveAuth } from '../config/accounts/live-auth.ts';
import { createLiveSessionRegistry } from '../config/accounts/live-sessions.ts';
import { loadCity } from '../config/city-config.ts';
import { systemClock } from '../core/clock.ts';
import { loadCredentials } from '../config/credentials.ts';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { declaredRoutes } from './access-control.ts';
import { createAuthGuard } from './auth.ts';
import { buildApp } from './build-app.ts';

/**
 * The endpoint extension point (docs/ARCHITECTURE.md, "Add an endpoint"): a resource's routes are one file,
 * a Fastify plugin made from explicit dependencies, with its access declared per route and zod schemas;
 * registering it is one line in platform-routes.ts's list. The plugin below lives in a temporary folder and
 * imports only api/auth.ts and zod. Built into the real app with real credentials, it is guarded by its
 * declared role, validated, and described in the OpenAPI document, with nothing else changed.
 */
const dep = (file: string) => JSON.stringify(pathToFileURL(join(import.meta.dirname, file)).href);
const PLUGIN = `
import { z } from 'zod';
import { allow } from ${dep('auth.ts')};

/** Road works reported by the city's contractors (a throwaway resource). */
export const roadWorksRoutes = (deps) => async (app) => {
  const works = [];
  app.get('/api/road-works', {
    config: allow('viewer'),
    schema: {
      tags: ['road works'],
      summary: 'Road works in progress',
      response: { 200: z.array(z.object({ street: z.string(), until: z.string() })) },
    },
  }, async () => works);
  app.post('/api/road-works', {
    config: allow('operator'),
    schema: { tags: ['road works'], body: z.object({ street: z.string().min(1), until: z.iso.date() }).strict() },
  }, async (request, reply) => {
    works.push(request.body);
    deps.onChange(request.body);
    return reply.code(201).send(request.body);
  });
};
`;

describe('an endpoint added as one route plugin file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-endpoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is guarded by its declared roles, validates with zod and appears in the OpenAPI document', async () => {
    writeFileSync(join(dir, 'road-works-routes.ts'), PLUGIN);
    const { roadWorksRoutes } = (await import(pathToFileURL(join(dir, 'road-works-routes.ts')).href)) as {
      roadWorksRoutes: (deps: { onChange(body: unknown): void }) => FastifyPluginAsync;
    };
    const dataDir = join(dir, 'data');
    const city = loadCity(join(CONFIG_DIR, 'cities/hue/city.yaml'), join(CONFIG_DIR, 'kinds'));
    const creds = loadCredentials(dataDir, city, 'demo');
    const logger = pino({ level: 'silent' });
    const auth = createLiveAuth({
      dataDir,
      initial: creds.file,
      sessions: createLiveSessionRegistry(),
      clock: systemClock,
      logger,
    });
    const guard = createAuthGuard(auth, false);
    const changes: unknown[] = [];
    // the registration line, as in platform-routes.ts
    const routes = [roadWorksRoutes({ onChange: (body) => changes.push(body) })];
    const app = await buildApp({ logger, routes, version: 't', access: { guard } });
    try {
      const operator = { authorization: `Bearer ${creds.generated!.operator.token}` };
      expect(
        declaredRoutes(app)
          .filter((r) => r.url === '/api/road-works')
          .map((r) => `${r.method}:${r.access}`)
          .sort(),
      ).toEqual(['GET:viewer', 'POST:operator']);
      expect((await app.inject({ method: 'GET', url: '/api/road-works' })).statusCode).toBe(401);
      const bad = await app.inject({
        method: 'POST',
        url: '/api/road-works',
        headers: operator,
        payload: { street: '' },
      });
      expect(bad.statusCode).toBe(400);
      expect(changes).toEqual([]);
      const body = { street: 'Lê Lợi', until: '2026-12-31' };
      expect(
        (await app.inject({ method: 'POST', url: '/api/road-works', headers: operator, payload: body })).statusCode,
      ).toBe(201);
      expect((await app.inject({ method: 'GET', url: '/api/road-works', headers: operator })).json()).toEqual([body]);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
        paths: Record<string, object>;
      };
      expect(Object.keys(doc.paths['/api/road-works'] ?? {}).sort()).toEqual(['get', 'post']);
    } finally {
      await app.close();
      auth.close();
    }
  });
});
