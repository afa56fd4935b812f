import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { createWebSocketStream } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { docsPlugin } from './docs-plugin.ts';
import { installErrorHandlers } from './errors.ts';
import { installAccessControl } from './access-control.ts';
import { allow, type AuthGuard } from './auth.ts';
import type { Registry } from 'prom-client';
import { installHttpSecurity, type HttpSecurityOptions } from './http-security.ts';
import { openApiOptions } from './openapi-conventions.ts';

/**
 * Builds the HTTP app without listening: tests call `inject` on it, platform.ts listens. Routes are
 * plugins made from explicit dependencies; other modules (alerts, console) add theirs through `routes`.
 */
export interface AppDeps {
  logger: Logger;
  /** MQTT over WebSocket at /mqtt: each connection is handed to the broker as a stream */
  mqttOverWebSocket?: (stream: Duplex, req: IncomingMessage, address: string) => void;
  /**
   * http.trustedProxies (config/trusted-proxies.ts): only from these peers is X-Forwarded-For taken, so that
   * request.ip, which every per-address limit and log reads, is the client's and not the balancer's
   */
  trustedProxies?: readonly string[];
  routes: readonly FastifyPluginAsync[];
  version: string;
  bodyLimit?: number;
  /** serve HTTPS (and so WSS) with this certificate; platform-listeners.ts swaps it on renewal */
  https?: HttpsOptions;
  /** default deny: every /api route declares its access (access-control.ts); omitted only by bare unit tests */
  access?: { guard: AuthGuard; registry?: Registry };
  /** headers, CORS and WebSocket Origin checks (api/http-security.ts) */
  security?: HttpSecurityOptions;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // one line per request would drown the log of a busy operations centre; errors are still logged
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // a request must arrive whole within 30 s (headers within Node's 30 s as well): a client that opens
    // sockets and trickles headers cannot hold them (upgraded WebSockets are not requests any more)
    requestTimeout: 30_000,
    ajv: { customOptions: { coerceTypes: 'array' } },
    // proxy-addr takes the nearest address in X-Forwarded-For that is not a trusted proxy: a client's own
    // X-Forwarded-For, which HAProxy passes on ahead of what it appends, is never believed
    trustProxy: deps.trustedProxies && deps.trustedProxies.length > 0 ? [...deps.trustedProxies] : false,
    // Fastify types an HTTPS app apart; routes and inject are the same, so the app keeps one type
    ...(deps.https ? ({ https: deps.https } as object) : {}),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  await installHttpSecurity(app, deps.security);

  // operationIds, license, servers and tags for every route (api/openapi-conventions.ts)
  await app.register(fastifySwagger, openApiOptions(deps.version));
  await app.register(docsPlugin); // Swagger UI, loaded on the first visit to /docs
  await app.register(fastifyWebsocket, { options: { maxPayload: 1024 * 1024 } });
  // after the WebSocket plugin: its onRequest hook must mark upgrades first, so a refused upgrade's socket is closed
  if (deps.access) await installAccessControl(app, deps.access.guard, deps.access.registry);

  if (deps.mqttOverWebSocket) {
    const handle = deps.mqttOverWebSocket;
    app.get('/mqtt', { websocket: true, schema: { hide: true } }, (socket, request) => {
      handle(createWebSocketStream(socket), request.raw, request.ip);
    });
  }
  for (const plugin of deps.routes) await app.register(plugin);

  app.get('/api/openapi.json', { config: allow('public'), schema: { hide: true } }, async () => app.swagger());
  return app;
}
