import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../api/errors.ts';
import { TEST_CLUSTER_SECRET } from '../test-support/cluster-fixture.ts';
import { alertActionForwarding, FORWARDED_BY } from './alert-action-forwarding.ts';
import { FORWARD_HEADERS, forwardingKey, signedForwardHeaders } from './forwarding-signature.ts';

const urlOf = (app: FastifyInstance | Server) => {
  const server = 'server' in app ? app.server : app;
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/**
 * The forwarding hook against a real owner socket that accepts the request and never answers (a node stuck in
 * a long GC, a half-open connection): the operator gets 503 alert_owner_unreachable within the hook's time,
 * not a request held open for as long as the owner is stuck.
 */
describe('an alert action forwarded to an owner that never answers', () => {
  let owner: Server;
  const heard: Array<Record<string, string | string[] | undefined>> = [];
  beforeAll(async () => {
    owner = createServer((req) => {
      heard.push(req.headers);
      // read, never answered
      req.resume();
    });
    await new Promise<void>((resolve) => owner.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    owner.closeAllConnections();
    await new Promise<void>((resolve) => owner.close(() => resolve()));
  });

  it('answers 503 alert_owner_unreachable after its timeout, having passed the credentials (not Origin)', async () => {
    const app = Fastify();
    const httpUrl = urlOf(owner);
    await app.register(
      alertActionForwarding({
        nodeId: 'node-a',
        secret: TEST_CLUSTER_SECRET,
        ownerOf: async () => ({ nodeId: 'node-b', httpUrl }),
        timeoutMs: 300,
      }),
    );
    app.post('/api/alerts/:id/ack', async () => ({ handled: 'here' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const began = Date.now();
      const res = await fetch(`${urlOf(app)}/api/alerts/a-1/ack`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer the-operators-token',
          'content-type': 'application/json',
          origin: 'https://ioc.hue.gov.vn',
          // the client's own claim: not believed here (no trusted proxies), so not passed on
          'x-forwarded-for': '203.0.113.9',
        },
        body: JSON.stringify({ note: 'x' }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { code: string }).code).toBe('alert_owner_unreachable');
      expect(Date.now() - began).toBeLessThan(5000);
      expect(heard.at(-1)).toMatchObject({ authorization: 'Bearer the-operators-token', [FORWARDED_BY]: 'node-a' });
      // signed for the owner it went to, with the time, a nonce and the body's digest
      expect(heard.at(-1)).toMatchObject({ [FORWARD_HEADERS.to]: 'node-b' });
      expect(heard.at(-1)?.[FORWARD_HEADERS.signature]).toMatch(/^[0-9a-f]{64}$/);
      // checked here already; the owner, reached at its own address, would call the console's origin cross-site
      expect(heard.at(-1)?.origin).toBeUndefined();
      // the address this node saw, for an owner that trusts the nodes (http.trustedProxies) to audit
      expect(heard.at(-1)?.['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      await app.close();
    }
  });
});

/**
 * Node-to-node trust, on real sockets: node A passes an action to node B, the owner; node B believes
 * `X-IOC-Forwarded-By` only with a valid signature made with the cluster key. Node B's alert route answers
 * `handled: node-b` only for what it takes as forwarded; anything else it would pass on to node C, which does not
 * listen (503). A refusal is 401, logged without the signature, and counted.
 */
describe('forwarded alert actions are signed with the cluster key', () => {
  const lines: Array<Record<string, unknown>> = [];
  const registry = new Registry();
  let a: FastifyInstance;
  let b: FastifyInstance;
  const key = forwardingKey(TEST_CLUSTER_SECRET);
  const handled: unknown[] = [];

  const node = async (nodeId: string, ownerOf: () => Promise<{ nodeId: string; httpUrl: string }>) => {
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const app = Fastify({ loggerInstance: logger });
    installErrorHandlers(app);
    await app.register(
      alertActionForwarding({
        nodeId,
        secret: TEST_CLUSTER_SECRET,
        ownerOf,
        timeoutMs: 2000,
        ...(nodeId === 'node-b' ? { registry } : {}),
      }),
    );
    app.post('/api/alerts/:id/ack', async (request) => {
      handled.push(request.body);
      return { handled: nodeId, body: request.body ?? null };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app;
  };

  beforeAll(async () => {
    // node C: a port that nothing listens on once closed
    const c = Fastify();
    await c.listen({ port: 0, host: '127.0.0.1' });
    const nodeC = urlOf(c);
    await c.close();
    b = await node('node-b', async () => ({ nodeId: 'node-c', httpUrl: nodeC }));
    a = await node('node-a', async () => ({ nodeId: 'node-b', httpUrl: urlOf(b) }));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const post = (app: FastifyInstance, headers: Record<string, string>, body?: string, path = '/api/alerts/x-1/ack') =>
    fetch(`${urlOf(app)}${path}`, {
      method: 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body,
    });
  const signed = (o: { body?: string; at?: number; to?: string; path?: string; clientAddress?: string } = {}) => ({
    'x-forwarded-for': o.clientAddress ?? '127.0.0.1',
    ...signedForwardHeaders(key, {
      method: 'POST',
      path: o.path ?? '/api/alerts/x-1/ack',
      body: o.body,
      at: o.at ?? Date.now(),
      from: 'node-a',
      to: o.to ?? 'node-b',
      clientAddress: '127.0.0.1',
    }),
  });

  it('passes an action from node A to node B, which takes it as forwarded (with and without a body)', async () => {
    const withBody = await post(a, {}, JSON.stringify({ note: 'đã nhận, đang xử lý' }));
    expect(withBody.status).toBe(200);
    expect(await withBody.json()).toEqual({ handled: 'node-b', body: { note: 'đã nhận, đang xử lý' } });
    const bare = await post(a, {});
    expect(bare.status).toBe(200);
    expect(await bare.json()).toEqual({ handled: 'node-b', body: null });
  });

  it('refuses a client that names itself a forwarding node, with 401, logged and counted, never handled', async () => {
    const before = handled.length;
    lines.length = 0;
    const forged = await post(b, { [FORWARDED_BY]: 'node-a' }, JSON.stringify({ note: 'giả' }));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ code: 'forwarded_request_refused' });
    const fakeSignature = await post(b, { ...signed(), [FORWARD_HEADERS.signature]: 'ab'.repeat(32) }, undefined);
    expect(fakeSignature.status).toBe(401);
    // signed with another key (a node of another cluster)
    const otherKey = forwardingKey('another-cluster-secret-of-32-characters-or-more');
    const foreign = await post(b, {
      'x-forwarded-for': '127.0.0.1',
      ...signedForwardHeaders(otherKey, {
        method: 'POST',
        path: '/api/alerts/x-1/ack',
        body: undefined,
        at: Date.now(),
        from: 'node-a',
        to: 'node-b',
        clientAddress: '127.0.0.1',
      }),
    });
    expect(foreign.status).toBe(401);
    expect(handled.length).toBe(before);
    const refusals = lines.filter((l) => l.msg === 'forwarded request refused');
    expect(refusals.map((l) => l.reason)).toEqual(['malformed', 'bad_signature', 'bad_signature']);
    expect(refusals[0]).toMatchObject({ claimedBy: 'node-a', from: '127.0.0.1', path: '/api/alerts/x-1/ack' });
    // nothing of the key, the signature or the nonce in the log
    const text = JSON.stringify(lines);
    expect(text).not.toContain(TEST_CLUSTER_SECRET);
    expect(text).not.toContain('ab'.repeat(32));
    const metric = await registry.getSingleMetricAsString('ioc_cluster_forwarded_refused_total');
    expect(metric).toContain('ioc_cluster_forwarded_refused_total{reason="bad_signature"} 2');
  });

  it('takes a valid signature once: replays, other paths, bodies, nodes, addresses, old times refused', async () => {
    const body = JSON.stringify({ note: 'một lần' });
    const headers = signed({ body });
    const first = await post(b, headers, body);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ handled: 'node-b' });
    const before = handled.length;
    lines.length = 0;
    const replayed = await post(b, headers, body);
    expect(replayed.status).toBe(401);
    // the signed headers on another alert's path, with another body, for another node, from another address
    expect((await post(b, signed({ body }), body, '/api/alerts/x-2/ack')).status).toBe(401);
    expect((await post(b, signed({ body }), JSON.stringify({ note: 'đổi nội dung' }))).status).toBe(401);
    expect((await post(b, signed({ body, to: 'node-c' }), body)).status).toBe(401);
    expect((await post(b, { ...signed({ body }), 'x-forwarded-for': '198.51.100.7' }, body)).status).toBe(401);
    expect((await post(b, signed({ body, at: Date.now() - 31_000 }), body)).status).toBe(401);
    expect((await post(b, signed({ body, at: Date.now() + 31_000 }), body)).status).toBe(401);
    expect(handled.length).toBe(before);
    expect(lines.filter((l) => l.msg === 'forwarded request refused').map((l) => l.reason)).toEqual([
      'replayed',
      'bad_signature',
      'body_mismatch',
      'wrong_node',
      'bad_signature',
      'expired',
      'expired',
    ]);
  });
});
