import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import fastifyPlugin from 'fastify-plugin';

/**
 * Swagger UI at /docs, loaded when /docs is first asked for. @fastify/swagger-ui and what it pulls in
 * (@fastify/static, yaml, glob, send, mime: ~40 files) cost the start-up about a tenth of a second and most
 * starts never show the page. It cannot register routes once the app is listening, so it lives in a Fastify
 * instance of its own, built on the first request and reached through inject(); it reads the OpenAPI document
 * from the app's @fastify/swagger (whose zod-to-OpenAPI work also happens then, on first call).
 * The app's own hooks (security headers, rate limits) apply to the answer as to any route.
 */
export const DOCS_PREFIX = '/docs';

// the inner instance's headers that the app's reply sets itself (length of the body it sends, the connection)
const HOP_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection', 'date']);

async function createDocsApp(app: FastifyInstance): Promise<FastifyInstance> {
  const { default: fastifySwaggerUi } = await import('@fastify/swagger-ui');
  const docs = Fastify({ logger: false });
  // the document comes from the app's @fastify/swagger: swagger-ui asks for that plugin by name
  await docs.register(
    fastifyPlugin(
      async (instance) => {
        instance.decorate('swagger', ((opts?: { yaml?: boolean }) => app.swagger(opts as { yaml: true })) as never);
      },
      { name: '@fastify/swagger' },
    ),
  );
  await docs.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { validatorUrl: null } });
  await docs.ready();
  return docs;
}

export async function docsPlugin(app: FastifyInstance): Promise<void> {
  let docs: Promise<FastifyInstance> | undefined;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    docs ??= createDocsApp(app).catch((err: unknown) => {
      docs = undefined; // the next request tries again
      throw err;
    });
    const res = await (await docs).inject({
      method: request.method === 'HEAD' ? 'HEAD' : 'GET',
      url: request.url,
      headers: { ...request.headers },
    });
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    return reply.code(res.statusCode).send(res.rawPayload);
  };
  app.get(DOCS_PREFIX, { schema: { hide: true } }, handler);
  app.get(`${DOCS_PREFIX}/*`, { schema: { hide: true } }, handler);
}
