import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * @fastify/helmet 13 calls `helmet(options)` on every request of every route, rebuilding the whole
 * middleware chain (and re-serialising the Content-Security-Policy) each time; profiled on the CAP feed,
 * which pollers hit many times a second. With static options (no nonces, no per-request functions) the
 * headers are the same every time, so helmet runs once here against a recorder and each request only
 * copies the result. Same library, same options, same headers.
 */
export type SecurityHeaders = ReadonlyArray<readonly [string, string]>;

export function computeSecurityHeaders(options: Readonly<HelmetOptions>): SecurityHeaders {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string) {
      headers.set(name, value);
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  let failure: unknown;
  const middleware = helmet({ ...options });
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure;
  return [...headers.entries()];
}

/** as helmet does: on the raw response, so a route's own reply.header still wins at send time */
export function applySecurityHeaders(res: ServerResponse, headers: SecurityHeaders): void {
  for (const [name, value] of headers) res.setHeader(name, value);
  res.removeHeader('X-Powered-By');
}
