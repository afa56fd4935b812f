import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { allow, principalOf, type AuthGuard } from '../api/auth.ts';
import { loadConsoleBundle, type ConsoleAsset, type ConsoleBundle } from './build-console.ts';

export interface ConsoleSession { role: 'viewer' | 'operator' | 'admin'; username?: string }

export interface ConsolePluginDeps {
  /** a prebuilt bundle; default: console/dist when its sources are unchanged, else built at registration */
  bundle?: Promise<ConsoleBundle>;
  /** the platform's auth guard: serves GET /api/console/session so the console can show the token's role */
  auth?: Pick<AuthGuard, 'authenticate'>;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

let sharedBuild: Promise<ConsoleBundle & { cached: boolean }> | undefined;

/** One load per process: a test file starts several platforms. */
function sharedConsoleBundle(logger: ConsolePluginDeps['logger']): Promise<ConsoleBundle & { cached?: boolean }> {
  sharedBuild ??= loadConsoleBundle((err) => logger?.warn({ err: err.message }, 'console: could not write console/dist (serving from memory)'))
    .catch((err: unknown) => {
      sharedBuild = undefined;
      throw err;
    });
  return sharedBuild;
}

// No Content-Security-Policy here: @fastify/helmet sets the one policy for every page (api/http-security.ts,
// CSP_DIRECTIVES). Setting a second one here replaced helmet's on / with a laxer copy (no object-src, no
// script-src-attr, no upgrade-insecure-requests over TLS) that drifted from it.

function pickEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Set(acceptEncoding.split(',').map((part) => {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    return params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p)) ? '' : name.trim();
  }));
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return undefined;
}

function send(asset: ConsoleAsset, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply
    .header('content-type', asset.contentType)
    .header('etag', asset.etag)
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (asset.path === '/') reply.header('referrer-policy', 'no-referrer');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const encoding = asset.contentType.startsWith('image/') ? undefined : pickEncoding(request.headers['accept-encoding']);
  const body = encoding === 'br' ? asset.br : encoding === 'gzip' ? asset.gzip : asset.body;
  if (encoding) reply.header('content-encoding', encoding);
  return reply.header('content-length', body.length).send(body);
}

/**
 * Serves the operator console: `/` and its fingerprinted assets from memory, precompressed (brotli,
 * gzip), index revalidated on every load, assets cached for a year. Register it through the
 * composition root's `deps.routes`.
 */
export function createConsolePlugin(deps: ConsolePluginDeps = {}): FastifyPluginAsync {
  return async function consolePlugin(app: FastifyInstance): Promise<void> {
    const bundle: ConsoleBundle & { cached?: boolean } = await (deps.bundle ?? sharedConsoleBundle(deps.logger));
    deps.logger?.info({ jsGzipKB: Math.round(bundle.jsGzipBytes / 1024), buildMs: Math.round(bundle.buildMs), fromDist: bundle.cached ?? false }, 'console: bundle ready');

    const index = bundle.assets.get('/')!;
    app.get('/', (request, reply) => send(index, request, reply));
    app.get<{ Params: { file: string } }>('/assets/:file', (request, reply) => {
      const asset = bundle.assets.get(`/assets/${request.params.file}`);
      if (!asset) return reply.code(404).send({ code: 'not_found', message: `no console asset ${request.params.file}` });
      return send(asset, request, reply);
    });

    if (deps.auth) {
      const auth = deps.auth;
      app.get('/api/console/session', { config: allow('viewer'), schema: { hide: true } }, (request, reply) => {
        // the access hook has authenticated (a bare plugin test without it authenticates here)
        const principal = principalOf(request) ?? auth.authenticate(request, 'viewer');
        const session: ConsoleSession = { role: principal.role === 'device' || principal.role === 'integration' ? 'viewer' : principal.role, username: principal.name };
        return reply.header('cache-control', 'no-store').send(session);
      });
    }
  };
}
