import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { allow } from '../auth.ts';
import { CONTEXT, CONTEXT_LINK } from './ngsi-ld-context.ts';
import { projectAttributes, toKeyValues, type Entity } from './ngsi-ld-entities.ts';
import { NgsiLdError, badRequest, createNgsiLdErrorHandler, problemBody } from './ngsi-ld-errors.ts';
import { chooseMediaType, compileIdPattern, parseListParam, parseLimit, parseOptions } from './ngsi-ld-params.ts';
import { parseQuery, QueryError, type QueryNode } from './ngsi-ld-query.ts';
import { matchesQuery } from './ngsi-ld-query-match.ts';
import type { NgsiLdSource } from './ngsi-ld-source.ts';

/**
 * NGSI-LD context information consumption (ETSI GS CIM 009, 5.7.1 and 5.7.2), read-only:
 * GET /ngsi-ld/v1/entities with type, id, idPattern, q, attrs, limit/offset, count and options=keyValues,
 * and GET /ngsi-ld/v1/entities/{entityId}. Viewer or above unless `ngsiLd.public` opens it.
 */
export interface NgsiLdRoutesDeps {
  source: NgsiLdSource;
  /** config ngsiLd.public */
  public: boolean;
  logger: Logger;
  registry?: Registry;
}

const entityBody = z.looseObject({ id: z.string(), type: z.string() });
const listQuery = z.object({
  type: z
    .string()
    .optional()
    .describe('entity types, comma separated (AirQualityObserved, WaterObserved, TrafficFlowObserved, Device, Alert)'),
  id: z.string().optional().describe('entity ids (URNs), comma separated'),
  idPattern: z.string().optional().describe('regular expression over entity ids'),
  q: z.string().optional().describe('NGSI-LD query language, e.g. pm25>50;areaServed=="Phú Xuân"'),
  attrs: z.string().optional().describe('attributes to return, comma separated'),
  limit: z.string().optional().describe('page size, 0 to 1000 (default 20)'),
  offset: z.string().optional().describe('entities to skip'),
  count: z.enum(['true', 'false']).optional().describe('true: the total in the NGSILD-Results-Count header'),
  options: z.string().optional().describe('keyValues or normalized (the default)'),
  format: z.string().optional().describe('simplified (keyValues) or normalized'),
});
const oneQuery = listQuery.pick({ attrs: true, options: true, format: true });
const errors = { 400: problemBody, 401: problemBody, 403: problemBody, 404: problemBody, 406: problemBody };

export const ngsiLdRoutes =
  (deps: NgsiLdRoutesDeps): FastifyPluginAsync =>
  async (parent) => {
    const handler = createNgsiLdErrorHandler(deps.logger.child({ module: 'ngsi-ld' }), deps.registry);
    await parent.register(
      async (app) => {
        app.setErrorHandler(handler);
        app.setNotFoundHandler((request, reply) =>
          handler(
            new NgsiLdError(
              404,
              'ResourceNotFound',
              'Resource not found',
              `no NGSI-LD resource ${request.method} ${request.url.split('?')[0]}: ` +
                'this broker serves GET /ngsi-ld/v1/entities and /ngsi-ld/v1/entities/{entityId}',
            ),
            request,
            reply,
          ),
        );
        const api = app.withTypeProvider<ZodTypeProvider>();
        const access = allow(deps.public ? 'public' : 'viewer');

        const shape = (
          entity: Entity,
          keyValues: boolean,
          attrs: ReadonlySet<string> | undefined,
          ld: boolean,
        ): Entity => {
          const projected = attrs ? projectAttributes(entity, attrs) : entity;
          const body = keyValues ? toKeyValues(projected) : projected;
          return ld ? { ...body, '@context': CONTEXT } : body;
        };
        const negotiate = (request: FastifyRequest, reply: FastifyReply): boolean => {
          const media = chooseMediaType(request.headers.accept);
          if (!media)
            throw new NgsiLdError(
              406,
              'NotAcceptable',
              'Not acceptable',
              'this broker answers application/json or application/ld+json',
            );
          const ld = media === 'application/ld+json';
          reply.type(media);
          // JSON-LD in plain JSON: the context is named by a Link header instead of an @context member (6.3.5)
          if (!ld) reply.header('link', CONTEXT_LINK);
          return ld;
        };

        api.get(
          '/entities',
          {
            config: access,
            schema: {
              tags: ['ngsi-ld'],
              summary: 'Query entities (Smart Data Models: observations, devices, alerts)',
              description:
                'ETSI GS CIM 009 5.7.2. Errors are ProblemDetails with https://uri.etsi.org/ngsi-ld/errors/ types.',
              querystring: listQuery,
              response: { 200: z.array(entityBody), ...errors },
            },
          },
          async (request, reply) => {
            const ld = negotiate(request, reply);
            const query = request.query;
            const { keyValues } = parseOptions(query.options, query.format);
            const types = parseListParam(query.type, 'type');
            const ids = parseListParam(query.id, 'id');
            const attrs = parseListParam(query.attrs, 'attrs');
            const idPattern = query.idPattern === undefined ? undefined : compileIdPattern(query.idPattern);
            const limit = parseLimit(query.limit, 'limit', 20, 1000);
            const offset = parseLimit(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
            let q: QueryNode | undefined;
            try {
              q = query.q === undefined ? undefined : parseQuery(query.q);
            } catch (err) {
              throw err instanceof QueryError ? badRequest(err.message) : err;
            }
            const matching = deps.source
              .entities()
              .filter(
                (e) =>
                  (!types || types.has(e.type)) &&
                  (!ids || ids.has(e.id)) &&
                  (!idPattern || idPattern.test(e.id)) &&
                  (!attrs || [...attrs].some((a) => Object.hasOwn(e, a))) &&
                  (!q || matchesQuery(e, q)),
              );
            if (query.count === 'true') reply.header('NGSILD-Results-Count', String(matching.length));
            return matching.slice(offset, offset + limit).map((e) => shape(e, keyValues, attrs, ld));
          },
        );

        api.get(
          '/entities/:entityId',
          {
            config: access,
            schema: {
              tags: ['ngsi-ld'],
              summary: 'Retrieve one entity by its id (a URN such as urn:ngsi-ld:AirQualityObserved:hue:air-ngomon)',
              params: z.object({ entityId: z.string() }),
              querystring: oneQuery,
              response: { 200: entityBody, ...errors },
            },
          },
          async (request, reply) => {
            const ld = negotiate(request, reply);
            const { entityId } = request.params;
            if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(entityId) || entityId.length > 256)
              throw badRequest(
                `entity id must be a URI (such as urn:ngsi-ld:Device:${deps.source.city.id}:<sensor>), ` +
                  `got ${JSON.stringify(entityId.slice(0, 80))}`,
              );
            const { keyValues } = parseOptions(request.query.options, request.query.format);
            const attrs = parseListParam(request.query.attrs, 'attrs');
            const entity = deps.source.entities().find((e) => e.id === entityId);
            if (!entity) throw new NgsiLdError(404, 'ResourceNotFound', 'Resource not found', `no entity ${entityId}`);
            return shape(entity, keyValues, attrs, ld);
          },
        );
      },
      { prefix: '/ngsi-ld/v1' },
    );
  };
