import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hueCity, reading, startHarness, T0, type Harness } from '../alerts/alert-test-kit.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { alertsCapRoutes } from './alerts-cap-routes.ts';
import { buildApp } from './build-app.ts';

const trafficRule = (id: string, selector: Record<string, string[]>, above = 50) => ({
  id,
  type: 'threshold',
  selector,
  metric: 'intensity',
  above,
  severity: 'low',
  category: 'traffic',
  subCategory: 'trafficJam',
});

/** The whole platform over real sockets: what a warning system polling the feed sees. */
describe('the public CAP feed is cached and revalidated', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function raise(ruleId: string, sensorId: string): Promise<void> {
    const created = await platform.request('POST', '/api/rules', {
      token: platform.adminToken,
      body: trafficRule(ruleId, { sensorIds: [sensorId] }),
    });
    expect(created.status).toBe(201);
    const device = await platform.connectDevice(sensorId);
    await publishAcked(device, `ioc/traffic/${sensorId}/readings`, JSON.stringify({ intensity: 90 }));
    await expect
      .poll(async () => (await fetch(`${platform.httpUrl}/api/alerts/cap`)).text(), { timeout: 5000 })
      .toContain(sensorId);
  }

  it('answers 304 to a repeat, and a new alert changes the ETag and Last-Modified', async () => {
    await raise('cap-cache-ancuu', 'traffic-ancuu');
    const first = await fetch(`${platform.httpUrl}/api/alerts/cap`);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}(-gz|-br)?"$/); // strong: no W/ prefix
    expect(Date.parse(lastModified)).not.toBeNaN();
    expect(first.headers.get('cache-control')).toBe('public, max-age=30');
    const body = await first.text();

    const again = await fetch(`${platform.httpUrl}/api/alerts/cap`);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe(body);
    const byTag = await fetch(`${platform.httpUrl}/api/alerts/cap`, { headers: { 'if-none-match': etag } });
    expect(byTag.status).toBe(304);
    expect(await byTag.text()).toBe('');
    expect(
      (await fetch(`${platform.httpUrl}/api/alerts/cap`, { headers: { 'if-none-match': `"other", W/${etag}` } }))
        .status,
    ).toBe(304);
    const byDate = await fetch(`${platform.httpUrl}/api/alerts/cap`, {
      headers: { 'if-modified-since': lastModified },
    });
    expect(byDate.status).toBe(304);
    // If-None-Match decides when both are sent (RFC 9110): a stale tag gets the body despite the date
    expect(
      (
        await fetch(`${platform.httpUrl}/api/alerts/cap`, {
          headers: { 'if-none-match': '"stale"', 'if-modified-since': lastModified },
        })
      ).status,
    ).toBe(200);
    expect(
      (await fetch(`${platform.httpUrl}/api/alerts/cap`, { headers: { 'if-modified-since': 'not a date' } })).status,
    ).toBe(200);

    await raise('cap-cache-gahue', 'traffic-gahue');
    const changed = await fetch(`${platform.httpUrl}/api/alerts/cap`, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.text()).toContain('traffic-gahue');
    expect(Date.parse(changed.headers.get('last-modified')!)).toBeGreaterThanOrEqual(Date.parse(lastModified));
  });
});

/** The real alert engine and store in simulated time, the feed over a real socket: its bounds. */
describe('the public CAP feed is bounded', () => {
  let h: Harness | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await h?.close();
    app = undefined;
    h = undefined;
  });

  async function serve(options: { windowHours?: number; maxEntries?: number }): Promise<string> {
    h = await startHarness([trafficRule('jam-all', { kinds: ['traffic'] })]);
    const routes = [
      alertsCapRoutes({
        alerts: h.service,
        city: hueCity(),
        clock: h.clock,
        publicBaseUrl: 'https://ioc.example.vn',
        ...options,
      }),
    ];
    app = await buildApp({ logger: pino({ level: 'silent' }), routes, version: 'test' });
    return app.listen({ port: 0, host: '127.0.0.1' });
  }
  const fire = async (sensorId: string, ts: number) => {
    h!.events.emit('readings', [reading(sensorId, { intensity: 90 }, ts)]);
    await h!.settle();
  };
  const entries = (xml: string) =>
    [...xml.matchAll(/<entry>[\s\S]*?<\/entry>/g)].map((m) => /traffic-[a-z]+/.exec(m[0])![0]);

  it('keeps at most maxEntries, newest first', async () => {
    const url = await serve({ maxEntries: 2 });
    for (const [i, id] of ['traffic-truongtien', 'traffic-phuxuan', 'traffic-davien'].entries()) {
      h!.clock.set(T0 + i * 60_000);
      await fire(id, T0 + i * 60_000);
    }
    expect(entries(await (await fetch(`${url}/api/alerts/cap`)).text())).toEqual(['traffic-davien', 'traffic-phuxuan']);
    // the filter applies before the count: an older alert of another district is still found
    expect(
      entries(await (await fetch(`${url}/api/alerts/cap?district=${encodeURIComponent('Thuận Hóa')}`)).text()),
    ).toEqual(['traffic-phuxuan', 'traffic-truongtien']);
  });

  it('drops alerts older than the window, even when nothing else happens', async () => {
    const url = await serve({ windowHours: 1 });
    await fire('traffic-truongtien', T0);
    h!.clock.set(T0 + 40 * 60_000);
    await fire('traffic-ancuu', T0 + 40 * 60_000);
    const first = await fetch(`${url}/api/alerts/cap`);
    expect(entries(await first.text())).toEqual(['traffic-ancuu', 'traffic-truongtien']);
    h!.clock.set(T0 + 61 * 60_000);
    const later = await fetch(`${url}/api/alerts/cap`, { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(later.status).toBe(200);
    expect(entries(await later.text())).toEqual(['traffic-ancuu']);
    expect((await fetch(`${url}/api/alerts/cap/no-such`)).status).toBe(404);
  });
});
