import { rm } from 'node:fs/promises';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { allow, principalOf, type AuthGuard } from '../api/auth.ts';
import {
  consoleSourceHash,
  loadConsoleBundle,
  writeConsoleBundleToTemp,
  type ConsoleBundle,
  type LoadedConsole,
} from './build-console.ts';

export interface ConsoleSession {
  role: 'viewer' | 'operator' | 'admin';
  username?: string;
}

export interface ConsolePluginDeps {
  /**
   * a prebuilt bundle (the dev harness's unminified one); default: console/dist when its sources are
   * unchanged, else built at registration. A bundle without a folder is written to a temporary one.
   */
  bundle?: Promise<ConsoleBundle | LoadedConsole>;
  /** the platform's auth guard: serves GET /api/console/session so the console can show the token's role */
  auth?: Pick<AuthGuard, 'authenticate'>;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

let sharedLoad: Promise<LoadedConsole> | undefined;

/** One load per process: a test file starts several platforms. */
function sharedConsoleBundle(logger: ConsolePluginDeps['logger']): Promise<LoadedConsole> {
  sharedLoad ??= loadConsoleBundle((err) =>
    logger?.warn({ err: err.message }, 'console: could not write console/dist (serving from a temporary folder)'),
  ).catch((err: unknown) => {
    sharedLoad = undefined;
    throw err;
  });
  return sharedLoad;
}

async function servable(bundle: ConsoleBundle | LoadedConsole): Promise<LoadedConsole> {
  if ('dir' in bundle) return bundle;
  const dir = await writeConsoleBundleToTemp(bundle, await consoleSourceHash());
  return { ...bundle, dir, cached: false, temporary: true };
}

const YEAR = 'public, max-age=31536000, immutable';
// RFC 9239: text/javascript is the one type for scripts; @fastify/send's mime table still says application/
const SCRIPT_TYPE = 'text/javascript; charset=utf-8';

// No Content-Security-Policy here: @fastify/helmet sets the one policy for every page (api/http-security.ts,
// CSP_DIRECTIVES). Setting a second one here replaced helmet's on / with a laxer copy (no object-src, no
// script-src-attr, no upgrade-insecure-requests over TLS) that drifted from it.

/**
 * Serves the operator console with @fastify/static: `/` (revalidated on every load) and the fingerprinted
 * assets (cached for a year), each as the .br or .gz twin the console build wrote beside it when the
 * browser accepts one; ETag and 304 come from @fastify/send. Register it through the composition root's
 * `deps.routes`.
 */
export function createConsolePlugin(deps: ConsolePluginDeps = {}): FastifyPluginAsync {
  return async function consolePlugin(app: FastifyInstance): Promise<void> {
    const served = await (deps.bundle ? deps.bundle.then(servable) : sharedConsoleBundle(deps.logger));
    deps.logger?.info(
      { jsGzipKB: Math.round(served.jsGzipBytes / 1024), buildMs: Math.round(served.buildMs), fromDist: served.cached },
      'console: bundle ready',
    );
    // a folder made for this app's own bundle goes with it; the shared one lives as long as the process
    if (deps.bundle && served.temporary) app.addHook('onClose', () => rm(served.dir, { recursive: true, force: true }));

    // serve: false: the two routes below are the only URLs, so manifest.json and the .br/.gz twins are not
    await app.register(fastifyStatic, { root: served.dir, serve: false, preCompressed: true, cacheControl: false });
    app.addHook('onSend', async (_request, reply, payload) => {
      if (String(reply.getHeader('content-type')).startsWith('application/javascript')) {
        reply.header('content-type', SCRIPT_TYPE);
      }
      return payload;
    });

    app.get('/', (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
    app.get<{ Params: { file: string } }>('/assets/:file', (request, reply) => {
      const path = `/assets/${request.params.file}`;
      if (!served.assets.has(path)) {
        return reply.code(404).send({ code: 'not_found', message: `no console asset ${request.params.file}` });
      }
      return reply.header('cache-control', YEAR).sendFile(path.slice(1));
    });

    if (deps.auth) {
      const auth = deps.auth;
      app.get('/api/console/session', { config: allow('viewer'), schema: { hide: true } }, (request, reply) => {
        // the access hook has authenticated (a bare plugin test without it authenticates here)
        const principal = principalOf(request) ?? auth.authenticate(request, 'viewer');
        const session: ConsoleSession = {
          role: principal.role === 'device' || principal.role === 'integration' ? 'viewer' : principal.role,
          username: principal.name,
        };
        return reply.header('cache-control', 'no-store').send(session);
      });
    }
  };
}
