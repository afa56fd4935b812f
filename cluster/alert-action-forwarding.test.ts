import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertActionForwarding, FORWARDED_BY } from './alert-action-forwarding.ts';

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
    const httpUrl = `http://127.0.0.1:${(owner.address() as AddressInfo).port}`;
    await app.register(
      alertActionForwarding({ nodeId: 'node-a', ownerOf: async () => ({ nodeId: 'node-b', httpUrl }), timeoutMs: 300 }),
    );
    app.post('/api/alerts/:id/ack', async () => ({ handled: 'here' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const began = Date.now();
      const res = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/alerts/a-1/ack`, {
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
      // checked here already; the owner, reached at its own address, would call the console's origin cross-site
      expect(heard.at(-1)?.origin).toBeUndefined();
      // the address this node saw, for an owner that trusts the nodes (http.trustedProxies) to audit
      expect(heard.at(-1)?.['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      await app.close();
    }
  });
});
