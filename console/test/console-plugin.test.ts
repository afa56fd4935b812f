import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleBundle, type LoadedConsole } from '../build-console.ts';
import { createConsolePlugin } from '../console-plugin.ts';

describe('console plugin', () => {
  let app: FastifyInstance;
  let scriptPath: string;
  let loaded: LoadedConsole;

  beforeAll(async () => {
    app = Fastify();
    loaded = await loadConsoleBundle();
    await app.register(createConsolePlugin({ bundle: Promise.resolve(loaded) }));
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

  it('sends the .br and .gz files the console build wrote, and never those twins or the manifest by name', async () => {
    const file = join(loaded.dir, scriptPath.slice(1));
    const br = await app.inject({ url: scriptPath, headers: { 'accept-encoding': 'br' } });
    expect(br.rawPayload.equals(readFileSync(`${file}.br`))).toBe(true);
    const gz = await app.inject({ url: scriptPath, headers: { 'accept-encoding': 'gzip' } });
    expect(gz.rawPayload.equals(readFileSync(`${file}.gz`))).toBe(true);
    const index = await app.inject({ url: '/', headers: { 'accept-encoding': 'br' } });
    expect(index.headers['content-encoding']).toBe('br');
    expect(index.rawPayload.equals(readFileSync(join(loaded.dir, 'index.html.br')))).toBe(true);
    for (const url of [
      `${scriptPath}.br`,
      `${scriptPath}.gz`,
      '/manifest.json',
      '/index.html',
      '/assets/..%2Fmanifest.json',
    ]) {
      expect((await app.inject({ url })).statusCode, url).toBe(404);
    }
  });

  it('serves a bundle handed over without a folder from a temporary one, removed when the app closes', async () => {
    const { dir: _dir, cached: _cached, temporary: _temporary, ...bundleOnly } = loaded;
    const temporaryFolders = () => new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('ioc-console-')));
    const before = temporaryFolders();
    const own = Fastify();
    await own.register(createConsolePlugin({ bundle: Promise.resolve(bundleOnly) }));
    await own.ready();
    const made = [...temporaryFolders()].filter((name) => !before.has(name));
    expect(made).toHaveLength(1);
    const page = await own.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(scriptPath);
    const script = await own.inject({ url: scriptPath, headers: { 'accept-encoding': 'identity' } });
    expect(script.rawPayload.equals(loaded.assets.get(scriptPath)!.body)).toBe(true);
    await own.close();
    expect(existsSync(join(tmpdir(), made[0]!))).toBe(false);
  });
});
