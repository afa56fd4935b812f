import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { pickEncoding } from './cap-encoding.ts';

/** GET over a real socket with exactly the headers given (fetch would add and decode Accept-Encoding). */
function get(
  p: TestPlatform,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(path, p.httpUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the CAP feed is served precompressed by Accept-Encoding', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('sends br, gzip or identity bodies that decode to the same document, each with its own ETag', async () => {
    const plain = await get(p, '/api/alerts/cap', {});
    const gz = await get(p, '/api/alerts/cap', { 'accept-encoding': 'gzip, deflate' });
    const br = await get(p, '/api/alerts/cap', { 'accept-encoding': 'gzip, deflate, br' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(br.headers['content-encoding']).toBe('br');
    for (const r of [plain, gz, br]) {
      expect(r.status).toBe(200);
      expect(r.headers.vary).toMatch(/accept-encoding/i);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(plain.body.toString('utf8')).toContain('<feed');
    expect(new Set([plain.headers.etag, gz.headers.etag, br.headers.etag]).size).toBe(3);
    // revalidation works per representation
    expect(
      (await get(p, '/api/alerts/cap', { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) })).status,
    ).toBe(304);
    expect(
      (await get(p, '/api/alerts/cap', { 'accept-encoding': 'gzip', 'if-none-match': String(br.headers.etag) })).status,
    ).toBe(200);
    // a client that refuses every coding gets the document as it is
    expect(
      (await get(p, '/api/alerts/cap', { 'accept-encoding': 'br;q=0, gzip;q=0' })).headers['content-encoding'],
    ).toBeUndefined();
  });

  it('picks a coding from any Accept-Encoding without throwing (property, fixed seed)', () => {
    expect(pickEncoding('*')).toBe('br');
    expect(pickEncoding('*, br;q=0')).toBe('gzip');
    expect(pickEncoding('identity')).toBe('identity');
    fc.assert(
      fc.property(fc.string(), (header) => {
        expect(['br', 'gzip', 'identity']).toContain(pickEncoding(header));
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});
