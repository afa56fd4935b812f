import type { FastifyPluginAsync } from 'fastify';

export interface AlertActionForwardingDeps {
  /** this node's id, sent along so the owner never forwards the request again */
  readonly nodeId: string;
  /** the owner node's HTTP address when another node owns the alert's partition; undefined: handle it here */
  readonly ownerOf: (alertId: string) => Promise<{ readonly nodeId: string; readonly httpUrl: string } | undefined>;
  /** how long the owner has to answer before the caller gets 503 (default 10 s) */
  readonly timeoutMs?: number;
}

export const FORWARDED_BY = 'x-ioc-forwarded-by';
/**
 * The request headers the owner needs to authenticate and answer in the same way. Not `Origin`: this node has
 * checked it already (api/http-security.ts, onRequest, before this hook), and the owner would compare it with
 * its own address, which is not the one the browser used, and refuse a console's action as cross-site (403).
 * Without it the owner still requires the same credentials, so nothing is gained by leaving it out.
 */
const PASSED = ['authorization', 'cookie', 'content-type', 'accept', 'accept-language', 'user-agent'];

/**
 * Cluster mode (docs/cluster.md): an operator's change to an alert (ack, resolve, start, assign, steps) is
 * made by the node that owns the alert's rule partition, where the alert lives; a request reaching another
 * node is passed to the owner as it came (same credentials) and the owner's answer returned unchanged. Reads
 * stay local. Registered without encapsulation (skip-override) so its hook sees the alert routes.
 */
export function alertActionForwarding(deps: AlertActionForwardingDeps): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    // after onRequest, where access control has authenticated the request: nothing unauthenticated is passed on
    app.addHook('preHandler', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      if (!request.routeOptions.url?.startsWith('/api/alerts/:id/')) return;
      if (request.headers[FORWARDED_BY] !== undefined) return;
      const id = (request.params as { id?: string }).id;
      const owner = id === undefined ? undefined : await deps.ownerOf(id);
      if (!owner || owner.nodeId === deps.nodeId) return;
      // the client's address as this node decided it (never the client's own X-Forwarded-For): an owner that lists
      // the nodes in http.trustedProxies records it in its audit; one that does not ignores it and records ours
      const headers: Record<string, string> = { [FORWARDED_BY]: deps.nodeId, 'x-forwarded-for': request.ip };
      for (const name of PASSED) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      // a POST without a body reaches the handler as null: it goes on without one, as it came. JSON.stringify
      // made it the text "null", which fetch sent as text/plain and the owner's schema refused (400, not 409)
      const body =
        request.body === undefined || request.body === null
          ? undefined
          : typeof request.body === 'string'
            ? request.body
            : JSON.stringify(request.body);
      try {
        // an owner that accepts and never answers must not hold the operator's request (and a socket) for ever
        const answer = await fetch(`${owner.httpUrl}${request.url}`, {
          method: request.method,
          headers,
          body,
          signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        });
        const type = answer.headers.get('content-type');
        if (type) reply.header('content-type', type);
        reply.code(answer.status);
        return reply.send(Buffer.from(await answer.arrayBuffer()));
      } catch (err) {
        request.log.warn(
          { owner: owner.nodeId, err: (err as Error).message },
          'alert action could not reach its owner',
        );
        reply.code(503);
        return reply.send({
          code: 'alert_owner_unreachable',
          message: `the node that holds alert ${id} (${owner.nodeId}) did not answer; try again in a few seconds`,
        });
      }
    });
  };
  // the hook applies to the alert routes registered beside it, not only inside this plugin (Fastify's skip-override)
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
