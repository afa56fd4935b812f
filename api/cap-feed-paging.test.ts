import type { FastifyInstance } from 'fastify';
import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hueCity, reading, startHarness, T0, type Harness } from '../alerts/alert-test-kit.ts';
import { alertsCapRoutes } from './alerts-cap-routes.ts';
import { buildApp } from './build-app.ts';

const BASE = 'https://ioc.example.vn';
const SENSORS = ['traffic-truongtien', 'traffic-phuxuan', 'traffic-davien', 'traffic-ancuu', 'traffic-gahue'];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * The feed's pages (RFC 5005), HEAD and revalidation per coding, over a real socket with exactly the
 * headers given (fetch would add Accept-Encoding and decode), the real alert engine in simulated time.
 */
describe('the CAP feed in pages, HEAD and 304 for every coding', { timeout: 60_000 }, () => {
  let h: Harness;
  let app: FastifyInstance;
  let url: string;
  const call = (method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const target = new URL(path, url);
      const req = httpRequest(
        { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  const links = (xml: string) =>
    Object.fromEntries(
      [
        ...xml.matchAll(/<link rel="(first|previous|next|last|self)" type="application\/atom\+xml" href="([^"]+)"/g),
      ].map((m) => [m[1], m[2]!.replace(/&amp;/g, '&')]),
    );
  const entries = (xml: string) =>
    [...xml.matchAll(/<entry>[\s\S]*?<\/entry>/g)].map((m) => /traffic-[a-z]+/.exec(m[0])![0]);

  beforeAll(async () => {
    h = await startHarness([
      {
        id: 'jam-all',
        type: 'threshold',
        selector: { kinds: ['traffic'] },
        metric: 'intensity',
        above: 50,
        severity: 'low',
        category: 'traffic',
        subCategory: 'trafficJam',
      },
    ]);
    const routes = [
      alertsCapRoutes({ alerts: h.service, city: hueCity(), clock: h.clock, publicBaseUrl: BASE, maxEntries: 2 }),
    ];
    app = await buildApp({ logger: pino({ level: 'silent' }), routes, version: 'test' });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const [i, id] of SENSORS.entries()) {
      h.clock.set(T0 + i * 60_000);
      h.events.emit('readings', [reading(id, { intensity: 90 }, T0 + i * 60_000)]);
      await h.settle();
    }
  });
  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  it('links pages first/next/previous/last, so every alert of the window is reachable, newest first', async () => {
    const seen: string[] = [];
    const ids = new Set<string>();
    let path: string | undefined = '/api/alerts/cap';
    const visited: Array<Record<string, string>> = [];
    while (path) {
      const answer = await call('GET', path);
      expect(answer.status).toBe(200);
      const xml = answer.body.toString('utf8');
      expect(entries(xml).length).toBeLessThanOrEqual(2);
      seen.push(...entries(xml));
      ids.add(/<id>([^<]+)<\/id>/.exec(xml)![1]!);
      const l = links(xml);
      visited.push(l);
      path = l.next?.replace(BASE, '');
    }
    expect(seen).toEqual([...SENSORS].reverse());
    expect(ids).toEqual(new Set([`${BASE}/api/alerts/cap`])); // one logical feed
    expect(visited).toEqual([
      {
        self: `${BASE}/api/alerts/cap`,
        first: `${BASE}/api/alerts/cap`,
        next: `${BASE}/api/alerts/cap?page=2`,
        last: `${BASE}/api/alerts/cap?page=3`,
      },
      {
        self: `${BASE}/api/alerts/cap?page=2`,
        first: `${BASE}/api/alerts/cap`,
        previous: `${BASE}/api/alerts/cap`,
        next: `${BASE}/api/alerts/cap?page=3`,
        last: `${BASE}/api/alerts/cap?page=3`,
      },
      {
        self: `${BASE}/api/alerts/cap?page=3`,
        first: `${BASE}/api/alerts/cap`,
        previous: `${BASE}/api/alerts/cap?page=2`,
        last: `${BASE}/api/alerts/cap?page=3`,
      },
    ]);
  });

  it('keeps the filters in the page links, refuses a bad page (400) and a page past the last (404)', async () => {
    const district = encodeURIComponent('Thuận Hóa');
    const xml = (await call('GET', `/api/alerts/cap?district=${district}&token=x`)).body.toString('utf8');
    expect(entries(xml)).toEqual(['traffic-gahue', 'traffic-phuxuan']);
    const next = new URLSearchParams({ district: 'Thuận Hóa', page: '2' });
    expect(links(xml).next).toBe(`${BASE}/api/alerts/cap?${next}`);
    const second = (await call('GET', `/api/alerts/cap?district=${district}&page=2`)).body.toString('utf8');
    expect(entries(second)).toEqual(['traffic-truongtien']);
    expect(links(second).next).toBeUndefined();
    for (const bad of ['0', '-1', '1.5', 'abc', '99999'])
      expect((await call('GET', `/api/alerts/cap?page=${bad}`)).status).toBe(400);
    const past = await call('GET', '/api/alerts/cap?page=4');
    expect(past.status).toBe(404);
    expect(JSON.parse(past.body.toString('utf8'))).toMatchObject({ code: 'page_not_found' });
  });

  it('answers 304 for every coding, by its own ETag and by date, and 200 to another coding', async () => {
    const codings = [
      { accept: '', encoding: undefined, decode: (b: Buffer) => b },
      { accept: 'gzip', encoding: 'gzip', decode: gunzipSync },
      { accept: 'gzip, deflate, br', encoding: 'br', decode: brotliDecompressSync },
    ];
    const plain = (await call('GET', '/api/alerts/cap')).body;
    const tags = new Set<string>();
    for (const page of ['/api/alerts/cap', '/api/alerts/cap?page=2']) {
      for (const c of codings) {
        const ask: Record<string, string> = c.accept ? { 'accept-encoding': c.accept } : {};
        const full = await call('GET', page, ask);
        expect(full.status).toBe(200);
        expect(full.headers['content-encoding']).toBe(c.encoding);
        if (page === '/api/alerts/cap') expect(c.decode(full.body).equals(plain)).toBe(true);
        const etag = String(full.headers.etag);
        tags.add(etag);
        const byTag = await call('GET', page, { ...ask, 'if-none-match': etag });
        expect(byTag.status).toBe(304);
        expect(byTag.body.length).toBe(0);
        expect(byTag.headers.etag).toBe(etag);
        expect(byTag.headers.vary).toMatch(/accept-encoding/i);
        expect(byTag.headers['cache-control']).toBe('public, max-age=30');
        const byDate = await call('GET', page, { ...ask, 'if-modified-since': String(full.headers['last-modified']) });
        expect(byDate.status).toBe(304);
        // the tag of one coding does not validate another: the client would keep a body it cannot decode
        const other = codings.find((o) => o !== c)!;
        const cross = await call('GET', page, {
          ...(other.accept ? { 'accept-encoding': other.accept } : {}),
          'if-none-match': etag,
        });
        expect(cross.status).toBe(200);
      }
    }
    expect(tags.size).toBe(6); // three codings of two pages
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    for (const accept of ['', 'gzip', 'br']) {
      const ask: Record<string, string> = accept ? { 'accept-encoding': accept } : {};
      const get = await call('GET', '/api/alerts/cap', ask);
      const head = await call('HEAD', '/api/alerts/cap', ask);
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      for (const name of ['etag', 'last-modified', 'content-type', 'content-encoding', 'vary', 'cache-control'])
        expect(head.headers[name]).toBe(get.headers[name]);
      expect(Number(head.headers['content-length'])).toBe(get.body.length);
      const revalidated = await call('HEAD', '/api/alerts/cap', { ...ask, 'if-none-match': String(get.headers.etag) });
      expect(revalidated.status).toBe(304);
    }
    expect((await call('HEAD', '/api/alerts/cap?page=4')).status).toBe(404);
  });
});
