import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { createRefusalLog } from './refusal-log.ts';
import { applySecurityHeaders, computeSecurityHeaders } from './security-headers.ts';

/**
 * The HTTP listener's own defences, installed on the root instance so that every route has them,
 * including /docs, the console and the WebSocket upgrades:
 * - security headers (@fastify/helmet) with one Content-Security-Policy that the console and Swagger UI
 *   both work under;
 * - CORS closed: a browser on another site gets no Access-Control-* header unless its origin is listed
 *   in `http.cors.origins`;
 * - a WebSocket upgrade (alert stream, MQTT over WebSocket) from a browser page of another site is
 *   refused with 403 before the upgrade (cross-site WebSocket hijacking). Clients that send no Origin
 *   (devices, scripts, integrations) are not browsers and still need their credentials.
 */
export interface HttpSecurityOptions {
  /** browser origins allowed besides the platform's own (`http.cors.origins`), e.g. https://gis.hue.gov.vn */
  allowedOrigins?: readonly string[];
  /** the origin people reach the platform at (`public.baseUrl`); else the request's own Host is its origin */
  publicOrigin?: string;
  /** send `upgrade-insecure-requests` (only once the platform serves HTTPS) */
  https?: boolean;
  registry?: Registry;
}

// The page loads nothing from elsewhere except optional base-map tiles (any https origin: the tile URL
// is configuration). Leaflet and Swagger UI position with inline styles, hence style-src 'unsafe-inline';
// no script runs inline in either (Swagger UI's initializer is a file of its own).
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'blob:', 'https:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'", 'ws:', 'wss:'],
  objectSrc: ["'none'"],
  frameAncestors: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
} as const;

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const PREFLIGHT_MAX_AGE_S = 600;
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'authorization, content-type';

/** `https://Example.vn:443/path` -> `https://example.vn`; undefined for anything that is not an http(s) origin. */
export function normaliseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export async function installHttpSecurity(app: FastifyInstance, options: HttpSecurityOptions = {}): Promise<void> {
  const allowed = new Set(
    (options.allowedOrigins ?? []).map((o) => normaliseOrigin(o)).filter((o): o is string => o !== undefined),
  );
  const publicOrigin = options.publicOrigin ? normaliseOrigin(options.publicOrigin) : undefined;
  const refused = new Counter({
    name: 'ioc_http_origin_refused_total',
    help: "Browser requests refused because their Origin is neither the platform's own nor allow-listed",
    labelNames: ['reason'] as const,
    registers: options.registry ? [options.registry] : [],
  });
  const refusalLog = createRefusalLog(app.log);

  const helmetOptions = {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...CSP_DIRECTIVES, upgradeInsecureRequests: options.https ? [] : null },
    },
    // tiles of a configured map server are cross-origin images without CORP headers
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' as const },
  };
  // global: false keeps reply.helmet() and per-route helmet options; the headers every route gets are
  // computed once (api/security-headers.ts) instead of helmet being rebuilt on every request
  await app.register(fastifyHelmet, { global: false, ...helmetOptions });
  const securityHeaders = computeSecurityHeaders(helmetOptions);
  app.addHook('onRequest', (request, reply, done) => {
    // a route with its own helmet options gets them from @fastify/helmet instead
    const own = (request.routeOptions.config as { helmet?: unknown } | undefined)?.helmet;
    if (own === undefined) applySecurityHeaders(reply.raw, securityHeaders);
    done();
  });

  /**
   * The page's origin is the platform itself (same host and port as the request, whatever the scheme: a
   * TLS-terminating proxy makes the two differ), its public URL, or allow-listed. A page of another site
   * cannot choose the Origin its browser sends.
   */
  const isAllowed = (request: FastifyRequest, origin: string): boolean => {
    const o = normaliseOrigin(origin);
    if (!o) return false;
    if (allowed.has(o) || o === publicOrigin) return true;
    return new URL(o).host === request.host.toLowerCase();
  };

  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    reason: 'websocket' | 'preflight' | 'cross_site_write',
    origin: string,
  ) => {
    refused.inc({ reason });
    refusalLog.once(
      `${reason}\u0000${origin}`,
      { origin: origin.slice(0, 200), path: request.url.split('?')[0], ip: request.ip, reason },
      'refused a browser request from another site (Origin not allowed: add it to http.cors.origins if it is trusted)',
    );
    return reply
      .code(403)
      .header('vary', 'origin')
      .send({
        code: 'origin_not_allowed',
        message: `origin ${origin.slice(0, 200)} is not allowed; an administrator may add it to http.cors.origins`,
      });
  };

  app.addHook('preValidation', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || request.headers.upgrade?.toLowerCase() !== 'websocket') return;
    if (!isAllowed(request, origin)) return refuse(request, reply, 'websocket', origin);
  });

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    // WebSocket upgrades are checked in preValidation (below), where a refusal closes the socket cleanly
    if (request.headers.upgrade?.toLowerCase() === 'websocket') return;
    const ok = isAllowed(request, origin);
    // A form or fetch from another site that would change something (the cookie sessions make this the
    // CSRF door): refused whatever the route, before its handler runs.
    if (!ok && !SAFE_METHODS.has(request.method)) {
      if (request.method !== 'OPTIONS') return refuse(request, reply, 'cross_site_write', origin);
    }
    const crossSite = ok && allowed.has(normaliseOrigin(origin) ?? '');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      if (!crossSite) return refuse(request, reply, 'preflight', origin);
      return reply
        .code(204)
        .header('access-control-allow-origin', normaliseOrigin(origin)!)
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S))
        .header('vary', 'origin')
        .send();
    }
    // Not allow-listed: no CORS header, so the browser keeps the answer from the other site's script.
    if (crossSite) reply.header('access-control-allow-origin', normaliseOrigin(origin)!).header('vary', 'origin');
  });
}
