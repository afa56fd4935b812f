import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { hueCity, reading, startHarness, T0, type Harness } from '../alerts/alert-test-kit.ts';
import { alertsCapRoutes } from './alerts-cap-routes.ts';
import { buildApp } from './build-app.ts';

const MIN = 60_000;
// a flood alert waits 10 minutes pending before it fires; a traffic jam fires at once
const floodII = {
  id: 'flood-2',
  type: 'threshold',
  severity: 'high',
  category: 'naturalDisaster',
  subCategory: 'flood',
  selector: { kinds: ['water'] },
  metric: 'waterLevel',
  floodLevel: 2,
  hysteresis: 0.1,
  for: '10m',
};
const jam = {
  id: 'jam-all',
  type: 'threshold',
  selector: { kinds: ['traffic'] },
  metric: 'intensity',
  above: 50,
  severity: 'low',
  category: 'traffic',
  subCategory: 'trafficJam',
};

/**
 * The feed's ETag follows its content, not the alert bus: pollers re-download (and the platform re-renders
 * and recompresses) only when something public changed. The real engine in simulated time, a real socket.
 */
// each test starts an engine, a store and an app: more than the default 30 s on a crowded machine
describe('the CAP feed changes only with what the public sees', { timeout: 90_000 }, () => {
  let h: Harness | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await h?.close();
    app = undefined;
    h = undefined;
  });

  async function serve(): Promise<string> {
    h = await startHarness([floodII, jam]);
    const routes = [
      alertsCapRoutes({
        alerts: h.service,
        city: hueCity(),
        clock: h.clock,
        publicBaseUrl: 'https://ioc.example.vn',
      }),
    ];
    app = await buildApp({ logger: pino({ level: 'silent' }), routes, version: 'test' });
    return app.listen({ port: 0, host: '127.0.0.1' });
  }
  const emit = async (sensorId: string, values: Record<string, number>, at: number) => {
    h!.clock.set(at);
    h!.events.emit('readings', [reading(sensorId, values, at)]);
    await h!.settle();
  };
  const poll = async (url: string, etag?: string) => {
    const res = await fetch(`${url}/api/alerts/cap`, { headers: etag ? { 'if-none-match': etag } : {} });
    const etagNow = res.headers.get('etag')!;
    const lastModified = res.headers.get('last-modified');
    return { status: res.status, etag: etagNow, lastModified, body: await res.text() };
  };
  const lastEvent = () => h!.seen.at(-1)!;

  it('keeps the ETag through a pending alert and one that resolves without firing, even of an empty feed', async () => {
    const url = await serve();
    const empty = await poll(url);
    expect(empty.status).toBe(200);
    // an empty feed dates itself by the clock when rendered: a re-render would change its ETag
    await emit('water-kimlong', { waterLevel: 2.3 }, T0 + MIN);
    expect(lastEvent()).toMatchObject({ type: 'pending' });
    const afterPending = await poll(url, empty.etag);
    expect(afterPending.status).toBe(304);
    expect(afterPending.etag).toBe(empty.etag);

    await emit('water-kimlong', { waterLevel: 1.5 }, T0 + 3 * MIN);
    expect(lastEvent()).toMatchObject({ type: 'resolved', alert: { sensorId: 'water-kimlong' } });
    expect(lastEvent().alert.firingAt).toBeUndefined();
    const afterResolved = await poll(url, empty.etag);
    expect(afterResolved).toMatchObject({ status: 304, etag: empty.etag, lastModified: empty.lastModified });
  });

  it("keeps a feed's ETag through a pending alert, and changes it when one fires or is acknowledged", async () => {
    const url = await serve();
    await emit('traffic-ancuu', { intensity: 90 }, T0);
    const first = await poll(url);
    expect(first.body).toContain('traffic-ancuu');

    await emit('water-kimlong', { waterLevel: 2.3 }, T0 + MIN);
    expect(lastEvent()).toMatchObject({ type: 'pending' });
    const afterPending = await poll(url, first.etag);
    expect(afterPending).toMatchObject({ status: 304, etag: first.etag, lastModified: first.lastModified });

    // the `for` timer fires the flood alert: now it is public
    h!.clock.set(T0 + 11 * MIN);
    await h!.settle();
    expect(lastEvent()).toMatchObject({ type: 'firing', alert: { sensorId: 'water-kimlong' } });
    const fired = await poll(url, first.etag);
    expect(fired.status).toBe(200);
    expect(fired.etag).not.toBe(first.etag);
    expect(fired.body).toContain('water-kimlong');

    h!.clock.set(T0 + 12 * MIN);
    await h!.service.acknowledge(lastEvent().alert.id, 'operator-1');
    const acked = await poll(url, fired.etag);
    expect(acked.status).toBe(200);
    expect(acked.etag).not.toBe(fired.etag);
  });
});
