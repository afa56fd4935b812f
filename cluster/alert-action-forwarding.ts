import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { DomainError } from '../core/domain-error.ts';
import {
  bodySha256,
  claimsForwarded,
  createForwardVerifier,
  FORWARD_HEADERS,
  type ForwardRefusal,
  forwardingKey,
  signedForwardHeaders,
} from './forwarding-signature.ts';

export interface AlertActionForwardingDeps {
  /** this node's id, sent along so the owner never forwards the request again */
  readonly nodeId: string;
  /** `cluster.secret`: every node holds it; forwarded requests are signed and checked with a key derived from it */
  readonly secret: string;
  /** the owner node's HTTP address when another node owns the alert's partition; undefined: handle it here */
  readonly ownerOf: (alertId: string) => Promise<{ readonly nodeId: string; readonly httpUrl: string } | undefined>;
  /** how long the owner has to answer before the caller gets 503 (default 10 s) */
  readonly timeoutMs?: number;
  /** real time (the nodes' clocks agree through NTP; a test's simulated clock does not go between processes) */
  readonly now?: () => number;
  /** counts refused forwarding claims: ioc_cluster_forwarded_refused_total{reason} */
  readonly registry?: Registry;
}

export const FORWARDED_BY = FORWARD_HEADERS.by;
/**
 * The request headers the owner needs to authenticate and answer in the same way. Not `Origin`: this node has
 * checked it already (api/http-security.ts, onRequest, before this hook), and the owner would compare it with
 * its own address, which is not the one the browser used, and refuse a console's action as cross-site (403).
 * Without it the owner still requires the same credentials, so nothing is gained by leaving it out.
 */
const PASSED = ['authorization', 'cookie', 'content-type', 'accept', 'accept-language', 'user-agent'];
/** an alert action's body is a note or an assignee: far less; a forwarded body is read whole to check its digest */
const MAX_FORWARDED_BODY = 1024 * 1024;

const REFUSED_TEXT: Record<ForwardRefusal, string> = {
  malformed: 'the forwarding headers are incomplete',
  expired: 'the forwarding signature is outside its validity window',
  wrong_node: 'the forwarding signature is for another node',
  bad_signature: 'the forwarding signature is not valid',
  replayed: 'the forwarded request was already taken',
  body_mismatch: 'the body is not the one the forwarding node signed',
};

/**
 * Cluster mode (docs/cluster.md): an operator's change to an alert (ack, resolve, start, assign, steps) is
 * made by the node that owns the alert's rule partition, where the alert lives; a request reaching another
 * node is passed to the owner as it came (same credentials), signed with the cluster key
 * (forwarding-signature.ts), and the owner's answer returned unchanged. Reads stay local. A request claiming to
 * be forwarded without a valid signature is refused with 401 and logged, never handled as forwarded.
 * Registered without encapsulation (skip-override) so its hooks see the alert routes.
 */
export function alertActionForwarding(deps: AlertActionForwardingDeps): FastifyPluginAsync {
  const now = deps.now ?? Date.now;
  const key = forwardingKey(deps.secret);
  const verifier = createForwardVerifier({ key, nodeId: deps.nodeId, now });
  const refusedTotal = deps.registry
    ? new Counter({
        name: 'ioc_cluster_forwarded_refused_total',
        help: 'requests claiming to be forwarded by another node without a valid signature, refused with 401',
        labelNames: ['reason'],
        registers: [deps.registry],
      })
    : undefined;
  // requests whose signature checked out, and the body digest it covers (checked against the bytes in preParsing)
  const forwarded = new WeakMap<FastifyRequest, string>();

  const refuse = (request: FastifyRequest, reason: ForwardRefusal): DomainError => {
    refusedTotal?.inc({ reason });
    const by = request.headers[FORWARD_HEADERS.by];
    // never the signature, the nonce or any credential: who claimed what, from where
    request.log.warn(
      {
        reason,
        from: request.ip,
        claimedBy: typeof by === 'string' ? by.slice(0, 64) : undefined,
        method: request.method,
        path: request.url.split('?')[0]?.slice(0, 200),
      },
      'forwarded request refused',
    );
    return new DomainError('unauthenticated', 'forwarded_request_refused', REFUSED_TEXT[reason]);
  };

  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onRequest', async (request) => {
      if (!claimsForwarded(request.headers)) return;
      const xff = request.headers['x-forwarded-for'];
      const check = verifier.check(request.headers, request.method, request.url, typeof xff === 'string' ? xff : '');
      if (!check.ok) throw refuse(request, check.reason);
      forwarded.set(request, check.bodySha256);
    });

    // the signature covers the body's digest: the bytes that came must be those (a body-less request skips this)
    app.addHook('preParsing', async (request, _reply, payload) => {
      const signed = forwarded.get(request);
      if (signed === undefined) return payload;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of payload) {
        size += (chunk as Buffer).length;
        if (size > MAX_FORWARDED_BODY)
          throw new DomainError(
            'too_large',
            'payload_too_large',
            `a forwarded body is at most ${MAX_FORWARDED_BODY} bytes`,
          );
        chunks.push(chunk as Buffer);
      }
      const body = Buffer.concat(chunks);
      if (bodySha256(body) !== signed) throw refuse(request, 'body_mismatch');
      return Object.assign(Readable.from([body]), { receivedEncodedLength: body.length });
    });

    // after onRequest, where access control has authenticated the request: nothing unauthenticated is passed on
    app.addHook('preHandler', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      if (!request.routeOptions.url?.startsWith('/api/alerts/:id/')) return;
      if (forwarded.has(request)) return;
      const id = (request.params as { id?: string }).id;
      const owner = id === undefined ? undefined : await deps.ownerOf(id);
      if (!owner || owner.nodeId === deps.nodeId) return;
      // a POST without a body reaches the handler as null: it goes on without one, as it came. JSON.stringify
      // made it the text "null", which fetch sent as text/plain and the owner's schema refused (400, not 409)
      const body =
        request.body === undefined || request.body === null
          ? undefined
          : typeof request.body === 'string'
            ? request.body
            : JSON.stringify(request.body);
      // the client's address as this node decided it (never the client's own X-Forwarded-For): an owner that lists
      // the nodes in http.trustedProxies records it in its audit; one that does not ignores it and records ours
      const headers: Record<string, string> = {
        'x-forwarded-for': request.ip,
        ...signedForwardHeaders(key, {
          method: request.method,
          path: request.url,
          body,
          at: now(),
          from: deps.nodeId,
          to: owner.nodeId,
          clientAddress: request.ip,
        }),
      };
      for (const name of PASSED) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
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
  // the hooks apply to the routes registered beside it, not only inside this plugin (Fastify's skip-override)
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
