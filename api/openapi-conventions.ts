import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/**
 * What every operation in the OpenAPI document gets without each route file having to remember it, so the
 * document passes redocly's recommended rules as routes are added (api/openapi-lint.test.ts proves it):
 * an operationId derived from method and path (unique because method + path is), a license, a server,
 * declared tags. A route may still name its own operationId in its schema.
 */
type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type TransformOutput = ReturnType<typeof jsonSchemaTransform>;

/** Descriptions of the tags routes use; a tag used but not listed here is still declared (without one). */
export const OPENAPI_TAGS: Readonly<Record<string, string>> = {
  sensors: 'Sensors of the city: configuration, live state and latest values',
  readings: 'Time series of readings: ranges, aggregates and latest values',
  ingest: 'HTTP ways in for devices and integrations (JSON, SenML, InfluxDB line protocol)',
  alerts: 'Alerts: list, acknowledge, resolve; the CAP 1.2 feed; webhook deliveries',
  rules: 'Alert rules, editable at runtime',
  city: 'The city: districts, boundary, rivers',
  system: 'Health, statistics and Prometheus metrics',
  audit: 'The tamper-evident audit log',
  session: 'Sign-in for people (console cookie sessions)',
  accounts: 'Accounts of people and integrations, and their API tokens',
  'ngsi-ld': 'NGSI-LD (ETSI GS CIM 009) read-only context: Smart Data Models entities for FIWARE tools',
  workflow: "Operations workflow: an alert's agency, assignee, steps, escalation and shift handover",
  public: 'Open data for residents: no sign-in, nothing personal or operational',
};

/**
 * What a route behind a credential answers when there is none or it is not enough (api/auth.ts): said in the
 * document for routes that declare no 4xx of their own, so every such operation shows one. The body is
 * the platform's `{code, message}`, or `{error}` for the InfluxDB-compatible /write.
 */
const UNAUTHORIZED = {
  description: 'No valid credential (401), or a role that may not do this (403)',
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, error: { type: 'string' } },
};

const pascal = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * `GET /api/sensors/:id/readings` -> `getSensorsByIdReadings`. The `/api` prefix carries no meaning;
 * other separators (`-`, `.`, `{}`) are dropped so the id is a plain identifier.
 */
export function operationIdOf(method: string, url: string): string {
  const parts = url.split('/').filter((p) => p !== '' && p !== 'api');
  const words = parts.map((p) => {
    const param = /^:(.+)$/.exec(p) ?? /^\{(.+)\}$/.exec(p);
    const name = (param ? param[1]! : p)
      .split(/[^A-Za-z0-9]+/)
      .filter(Boolean)
      .map(pascal)
      .join('');
    return param ? `By${name}` : name;
  });
  return `${method.toLowerCase()}${words.join('') || 'Root'}`;
}

/**
 * The zod transform, plus: a route that declares no schema at all (the console's page and files) is not
 * part of the documented API and is left out rather than shown as an empty operation.
 */
export function openApiTransform(input: TransformInput): TransformOutput {
  const out = jsonSchemaTransform(input);
  if (input.schema === undefined || input.schema === null) return { ...out, schema: { ...out.schema, hide: true } };
  const access = (input.route?.config as { access?: string } | undefined)?.access;
  const response = (out.schema as { response?: Record<string, unknown> }).response ?? {};
  if (access === undefined || access === 'public' || Object.keys(response).some((code) => /^4/.test(code))) return out;
  // a route with no responses at all keeps the "200 Default Response" @fastify/swagger would have written
  const success = Object.keys(response).length === 0 ? { 200: { description: 'Default Response' } } : {};
  return { ...out, schema: { ...out.schema, response: { ...success, ...response, 401: UNAUTHORIZED } } };
}

interface Operation {
  tags?: string[];
  operationId?: string;
}
interface OpenApiDocument {
  tags?: Array<{ name: string; description?: string }>;
  paths?: Record<string, Record<string, Operation>>;
}

/**
 * Names every operation (its own operationId when it has one that no other operation has, else derived
 * from method and path: one route serving GET and HEAD is two operations) and declares every tag used,
 * with its description where known, in the order first used.
 */
export function completeDocument<T extends OpenApiDocument>(doc: T): T & Required<Pick<OpenApiDocument, 'tags'>> {
  const names: string[] = [];
  const uses = new Map<string, number>();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item))
      if (op.operationId) uses.set(op.operationId, (uses.get(op.operationId) ?? 0) + 1);
  }
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    paths[path] = {};
    for (const [method, op] of Object.entries(item)) {
      for (const tag of op.tags ?? []) if (!names.includes(tag)) names.push(tag);
      const own = op.operationId !== undefined && uses.get(op.operationId) === 1;
      paths[path][method] = own ? op : { ...op, operationId: operationIdOf(method, path) };
    }
  }
  const tags = names.map((name) => (OPENAPI_TAGS[name] ? { name, description: OPENAPI_TAGS[name] } : { name }));
  return { ...doc, tags, paths };
}

/** The document's fixed parts: license (package.json's), the server (this platform, relative), security. */
export function openApiOptions(version: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      info: {
        title: 'IOC platform API',
        description:
          'Sensors, readings, alerts and rules of the city operations platform. ' +
          'Operator endpoints take `Authorization: Bearer <token>`.',
        version,
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      // relative: the document is served by the platform it describes, behind whatever address it has
      servers: [{ url: '/', description: 'This platform' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: openApiTransform as FastifyDynamicSwaggerOptions['transform'],
    transformObject: (doc) =>
      completeDocument(
        ('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject) as OpenApiDocument,
      ) as ReturnType<NonNullable<FastifyDynamicSwaggerOptions['transformObject']>>,
  };
}
