import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleBundle } from '../build-console.ts';
import { createConsolePlugin } from '../console-plugin.ts';

describe('console plugin', () => {
  let app: FastifyInstance;
  let scriptPath: string;

  beforeAll(async () => {
    app = Fastify();
    await app.register(createConsolePlugin({ bundle: loadConsoleBundle() }));
    await app.ready();
    const index = await app.inject({ url: '/' });
    scriptPath = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(index.body)?.[1] ?? '';
  });
  afterAll(() => app.close());

  it('serves the page revalidated on every load, leaving the content security policy to helmet', async () => {
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    // one policy for every page, set by helmet (console-csp.test.ts checks it on a whole platform)
    expect(res.headers['content-security-policy']).toBeUndefined();
    expect(res.body).toContain('<div id="app">');
    expect(res.body).not.toContain('{{');
    expect(res.body).toMatch(/<link rel="modulepreload" href="\/assets\/chunk-/);
    expect(scriptPath).toMatch(/^\/assets\/main-/);
  });

  it('sends brotli or gzip as the browser accepts, and plain bytes otherwise', async () => {
    const plain = await app.inject({ url: scriptPath, headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    const br = await app.inject({ url: scriptPath, headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).equals(plain.rawPayload)).toBe(true);
    const gz = await app.inject({ url: scriptPath, headers: { 'accept-encoding': 'gzip, br;q=0' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
    expect(gz.headers.vary).toBe('accept-encoding');
  });

  it('lets browsers keep fingerprinted assets for a year and answers 304 to a known ETag', async () => {
    const first = await app.inject({ url: scriptPath });
    expect(first.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const again = await app.inject({ url: scriptPath, headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers an unknown asset with a 404 error body', async () => {
    const res = await app.inject({ url: '/assets/nope.js' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not_found' });
  });
});
