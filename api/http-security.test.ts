import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

const EVIL = 'https://evil.example';
const FRIEND = 'https://gis.hue.example';

/** A plain HTTP request over a real socket, with whatever headers a browser would send. */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket and says how the handshake ended: 'open', or the HTTP status of the refusal. */
function upgrade(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    ws.on('error', () => undefined);
  });
}

describe('HTTP security: headers, CORS and WebSocket origins', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ overrides: { http: { port: 0, host: '127.0.0.1', cors: { origins: [FRIEND] } } } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('sends security headers on the console, /docs, the API and errors', async () => {
    for (const path of ['/', '/docs/', '/docs/static/index.html', '/api/health', '/api/alerts/cap', '/api/nothing']) {
      const res = await send(p.httpUrl, 'GET', path);
      expect(res.headers['content-security-policy'], path).toContain("script-src 'self'");
      expect(res.headers['content-security-policy'], path).toContain("frame-ancestors 'self'");
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['x-frame-options'], path).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
    }
  });

  it('keeps CORS closed to other sites and open to the configured ones', async () => {
    const evil = await send(p.httpUrl, 'GET', '/api/health', { origin: EVIL });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const friend = await send(p.httpUrl, 'GET', '/api/health', { origin: FRIEND });
    expect(friend.headers['access-control-allow-origin']).toBe(FRIEND);
    const preflight = await send(p.httpUrl, 'OPTIONS', '/api/alerts', {
      origin: EVIL,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    });
    expect(preflight.status).toBe(403);
    expect(JSON.parse(preflight.body)).toMatchObject({ code: 'origin_not_allowed' });
    const okPreflight = await send(p.httpUrl, 'OPTIONS', '/api/alerts', {
      origin: FRIEND,
      'access-control-request-method': 'GET',
    });
    expect(okPreflight.status).toBe(204);
    expect(okPreflight.headers['access-control-allow-headers']).toContain('authorization');
  });

  it('refuses a state change posted from another site before its handler runs', async () => {
    const res = await send(p.httpUrl, 'POST', '/api/alerts/none/acknowledge', {
      origin: EVIL,
      authorization: `Bearer ${p.operatorToken}`,
      'content-type': 'application/json',
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'origin_not_allowed' });
  });

  it('refuses cross-site WebSocket upgrades (alerts, MQTT); allows platform, listed sites, non-browsers', async () => {
    const ws = p.httpUrl.replace(/^http/, 'ws');
    const auth = { authorization: `Bearer ${p.operatorToken}` };
    expect(await upgrade(`${ws}/api/alerts/stream`, { ...auth, origin: EVIL })).toBe(403);
    expect(await upgrade(`${ws}/mqtt`, { origin: EVIL })).toBe(403);
    expect(await upgrade(`${ws}/api/alerts/stream`, auth)).toBe('open');
    expect(await upgrade(`${ws}/api/alerts/stream`, { ...auth, origin: p.httpUrl })).toBe('open');
    expect(await upgrade(`${ws}/api/alerts/stream`, { ...auth, origin: FRIEND })).toBe('open');
    // no Origin still needs credentials
    expect(await upgrade(`${ws}/api/alerts/stream`, {})).toBe(401);
    const metrics = await p.request('GET', '/metrics');
    expect(metrics.text).toMatch(/ioc_http_origin_refused_total\{reason="websocket"\} 2/);
  });

  it('takes ?token= only on the upgrade of a WebSocket route, not on any route sent an Upgrade header', async () => {
    const viewer = p.credentials!.viewer!.token;
    // what the reviewer did: a plain API route, an Upgrade header and the token in the URL
    const sneaky = await upgrade(`${p.httpUrl.replace('http', 'ws')}/api/session?token=${viewer}`, {});
    expect(sneaky).toBe(401);
    // the alert stream, a WebSocket route, still takes it (browsers cannot set headers on an upgrade)
    expect(await upgrade(`${p.httpUrl.replace('http', 'ws')}/api/alerts/stream?token=${viewer}`, {})).toBe('open');
  });
});
