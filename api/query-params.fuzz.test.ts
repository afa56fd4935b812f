import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters } from '../test-support/fuzz.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Every query parameter of every GET route under /api, from the route table (the OpenAPI document lists
 * each route with its parameters), with anything a caller can put in a URL: random text, numbers out of
 * range, huge values, prototype names, repeated keys. With a valid admin token the answer is 200, 400 or
 * 404, an error always a JSON body with a code and a message, and the platform keeps answering.
 * The MQTT side (topics, payloads) is fuzzed in broker/mqtt-fuzz.test.ts.
 */
const params = fuzzParameters(25);
const PROTO_NAMES = [...Object.getOwnPropertyNames(Object.prototype), '__proto__'];

const hostileValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    ...PROTO_NAMES,
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e308',
    '-1',
    '0',
    '1.5',
    'true',
    'null',
    '[]',
    '{}',
    '%00',
    ',',
    ',,',
    'water,air',
    'firing',
    '1h',
    'mean',
    'P1D',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.integer({ min: 1000, max: 100_000 }).map((n) => 'x'.repeat(n)),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

interface Route {
  path: string;
  query: string[];
  pathParams: string[];
}

describe('API query parameters, fuzzed', () => {
  let platform: TestPlatform;
  let routes: Route[] = [];
  beforeAll(async () => {
    platform = await startTestPlatform();
    type Doc = { paths: Record<string, { get?: { parameters?: Array<{ in: string; name: string }> } }> };
    const doc = (await platform.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as Doc;
    routes = Object.entries(doc.paths)
      .filter(([path, ops]) => path.startsWith('/api/') && ops.get)
      .map(([path, ops]) => ({
        path,
        query: (ops.get!.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        pathParams: (ops.get!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      }));
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('walks a route table that has the query parameters in it', () => {
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.find((r) => r.path === '/api/alerts')?.query).toEqual(
      expect.arrayContaining(['state', 'severity', 'from', 'limit']),
    );
  });

  it('answers every GET route 200, 400 or 404, with a JSON error body, whatever the query', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      // known parameter names and any others, each possibly repeated (an array in Fastify's parser)
      const name = fc.oneof(fc.constantFrom(...route.query, ...PROTO_NAMES, 'token'), fc.string({ maxLength: 12 }));
      const query = fc.array(fc.tuple(name, hostileValue), { maxLength: 6 });
      const pathValue = fc.oneof(
        fc.constantFrom('water-kimlong', 'air-ngomon', 'flood-level-2', ...PROTO_NAMES),
        fc.string({ minLength: 1, maxLength: 30 }),
      );
      await fc
        .assert(
          fc.asyncProperty(
            query,
            fc.array(pathValue, { minLength: route.pathParams.length, maxLength: route.pathParams.length }),
            async (pairs, values) => {
              let path = route.path;
              route.pathParams.forEach((p, i) => {
                path = path.replace(`{${p}}`, encodeURIComponent(values[i]!));
              });
              const search = new URLSearchParams(pairs).toString();
              const url = `${path}${search ? `?${search}` : ''}`;
              const res = await platform.app.inject({
                method: 'GET',
                url,
                headers: { authorization: `Bearer ${platform.adminToken}` },
              });
              const ok = [200, 304, 400, 404].includes(res.statusCode);
              let body: unknown;
              if (res.statusCode >= 400) {
                try {
                  body = res.json();
                } catch {
                  body = undefined;
                }
              }
              const errorShaped =
                res.statusCode < 400 ||
                (typeof body === 'object' &&
                  body !== null &&
                  typeof (body as { code?: unknown }).code === 'string' &&
                  typeof (body as { message?: unknown }).message === 'string');
              if (!ok || !errorShaped)
                failures.push(`${res.statusCode} GET ${url.slice(0, 200)} -> ${res.body.slice(0, 200)}`);
              return ok && errorShaped;
            },
          ),
          { ...params, endOnFailure: true },
        )
        .catch(() => undefined);
    }
    expect(failures).toEqual([]);
    // still answering after all of it
    expect((await platform.request('GET', '/api/health')).status).toBe(200);
  }, 600_000);
});
