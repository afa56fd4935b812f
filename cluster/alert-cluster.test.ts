import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../store/influxdb/influx-test-helpers.ts';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import { publishAcked, type TestPlatform } from '../test-support/platform-harness.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import {
  type ClusterSetup,
  clusterStatus,
  pairEvents,
  startNode,
  type StreamWatch,
  waitFor,
  watchAlerts,
} from './cluster-test-kit.ts';
import { clusterKeys, partitionOf } from './partition-map.ts';

/**
 * Two nodes in one process on a real Redis and InfluxDB: a sensor whose readings arrive through both nodes
 * opens one alert, and operators on both nodes see the same events once, in the same order.
 */
describe('one alert truth across two cluster nodes', () => {
  let redis: RedisServer;
  let influx: InfluxServer;
  let a: TestPlatform;
  let b: TestPlatform;
  let setup: ClusterSetup;

  beforeAll(async () => {
    [redis, influx] = await Promise.all([startRedis(), startInfluxd()]);
    setup = {
      redisUrl: redis.url,
      influxUrl: influx.url,
      database: freshDatabase('alertcluster'),
      leaseMs: 1500,
      partitions: 8,
    };
    a = await startNode(setup, 'node-a');
    b = await startNode(setup, 'node-b', { seedDir: a.dataDir });
    // both nodes alive, every partition held, and shared out (the first node gives half up to the second)
    await waitFor('the partitions shared between both nodes', async () => {
      const status = await clusterStatus(a);
      const [na, nb] = status.nodes;
      return status.unowned.length === 0 &&
        na?.alive &&
        nb?.alive &&
        na.partitions.length === 4 &&
        nb.partitions.length === 4
        ? status
        : undefined;
    });
  }, 90_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await redis?.dispose();
    await influx?.dispose();
  });

  it('lists both nodes in GET /api/cluster, for admins only', async () => {
    const status = await clusterStatus(b);
    expect(status.clustered).toBe(true);
    expect(status.nodeId).toBe('node-b');
    expect(status.nodes.map((n) => n.id)).toEqual(['node-a', 'node-b']);
    const nodeA = status.nodes[0]!;
    expect(nodeA.address.http).toBe(a.httpUrl);
    expect(nodeA.address.mqtt).toBe(a.mqttUrl);
    expect(Date.parse(nodeA.lastHeartbeat)).toBeGreaterThan(Date.now() - 60_000);
    expect(nodeA.commitLogLagBytes).toBeGreaterThanOrEqual(0);
    expect([...nodeA.partitions, ...status.nodes[1]!.partitions].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect((await b.request('GET', '/api/cluster')).status).toBe(403); // an operator
    expect((await b.request('GET', '/api/cluster', { token: null })).status).toBe(401);
  });

  it('opens one alert for readings coming via both nodes; both operators see its events once, in order', async () => {
    const watchers: StreamWatch[] = [await watchAlerts(a), await watchAlerts(b)];
    const onA = await a.connectDevice('water-kimlong');
    const onB = await b.connectDevice('water-kimlong');
    // above alarm level I (1.0 m) through both nodes at once, several times
    await Promise.all(
      [1.2, 1.25, 1.3, 1.35].flatMap((level, i) => [
        publishAcked(onA, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: level })),
        publishAcked(onB, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: level + i / 100 })),
      ]),
    );
    // back below the level minus its hysteresis: the alert resolves, after which no late duplicate can come
    await publishAcked(onB, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 0.5 }));
    for (const watch of watchers) {
      await waitFor('the resolved event on both nodes', () =>
        pairEvents(watch.events, 'flood-level-1', 'water-kimlong').some((e) => e.startsWith('resolved:'))
          ? true
          : undefined,
      );
    }
    const [seenA, seenB] = watchers.map((w) => pairEvents(w.events, 'flood-level-1', 'water-kimlong'));
    const id = seenA![0]!.split(':')[1];
    expect(seenA).toEqual([`firing:${id}`, `resolved:${id}`]);
    expect(seenB).toEqual(seenA);
    // every event, not just this pair's, in the same order with the same seq on both nodes
    const order = (w: StreamWatch) => w.events.map((e) => `${e.seq}:${e.type}:${e.alert.id}`);
    await waitFor('the same events on both nodes', () =>
      order(watchers[0]!).join() === order(watchers[1]!).join() ? true : undefined,
    );
    const seqs = watchers[0]!.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    // nothing of the pair is left open in the shared state
    const probe = new Redis(redis.url);
    try {
      const p = partitionOf('water-kimlong', setup.partitions);
      expect(await probe.hkeys(clusterKeys('ioc:').open(p))).toEqual([]);
    } finally {
      probe.disconnect();
    }
    for (const w of watchers) w.close();
  });

  it("passes an operator's acknowledge and resolve on a node that does not own the alert to its owner", async () => {
    const watchers = [await watchAlerts(a), await watchAlerts(b)];
    const sensor = 'water-phuoc'; // alarm level I: 1.5 m
    const device = await a.connectDevice(sensor);
    await publishAcked(device, `ioc/water/${sensor}/readings`, JSON.stringify({ waterLevel: 1.8 }));
    const firing = await waitFor('the firing event', () =>
      watchers[1]!.events.find((e) => e.alert.sensorId === sensor && e.alert.ruleId === 'flood-level-1'),
    );
    const p = partitionOf(sensor, setup.partitions);
    const status = await clusterStatus(a);
    const owner = status.nodes.find((n) => n.partitions.includes(p))!.id;
    const other = owner === 'node-a' ? b : a;
    const id = firing.alert.id;
    // a client naming itself a forwarding node, without the cluster key's signature: refused, never handled as
    // forwarded (which would answer 404 from this node's state) and never passed on
    const forged = await other.request('POST', `/api/alerts/${id}/ack`, {
      body: { note: 'giả mạo' },
      headers: { 'x-ioc-forwarded-by': owner === 'node-a' ? 'node-b' : 'node-a' },
    });
    expect(forged.status, forged.text).toBe(401);
    expect(forged.json).toMatchObject({ code: 'forwarded_request_refused' });
    // without the forwarding, the other node knows no open alert of that id: 404
    const ack = await other.request('POST', `/api/alerts/${id}/ack`, { body: { note: 'đã nhận' } });
    expect(ack.status, ack.text).toBe(200);
    expect(ack.json).toMatchObject({ alert: { id, state: 'acknowledged', acknowledgedBy: 'operator' } });
    // a repeat, without a body as a console's button sends it: passed on, it answers as the owner does (409)
    const again = await other.request('POST', `/api/alerts/${id}/ack`);
    const atOwner = await (owner === 'node-a' ? a : b).request('POST', `/api/alerts/${id}/ack`);
    expect(atOwner.status, atOwner.text).toBe(409);
    expect(again.status, again.text).toBe(409);
    expect(again.json).toEqual(atOwner.json);
    const resolved = await other.request('POST', `/api/alerts/${id}/resolve`, { body: { note: 'nước rút' } });
    expect(resolved.status, resolved.text).toBe(200);
    for (const watch of watchers) {
      await waitFor('the resolved event', () =>
        pairEvents(watch.events, 'flood-level-1', sensor).length >= 3 ? true : undefined,
      );
      expect(pairEvents(watch.events, 'flood-level-1', sensor)).toEqual([
        `firing:${id}`,
        `acknowledged:${id}`,
        `resolved:${id}`,
      ]);
    }
    for (const w of watchers) w.close();
  });

  it("passes a console's cookie action to the owner: same person, its Origin checked where it arrived", async () => {
    const password = 'mật-khẩu-trực-ban-đủ-dài';
    const made = await a.request('POST', '/api/accounts', {
      token: a.adminToken,
      body: { name: 'truc-ban', role: 'operator', password, iocDuty: true },
    });
    expect(made.status, made.text).toBe(201);
    const watch = await watchAlerts(a);
    const sensor = 'water-phuoc'; // alarm level I: 1.5 m; below it first, so a new alert opens
    const device = await a.connectDevice(sensor);
    await publishAcked(device, `ioc/water/${sensor}/readings`, JSON.stringify({ waterLevel: 1.0 }));
    await publishAcked(device, `ioc/water/${sensor}/readings`, JSON.stringify({ waterLevel: 1.9 }));
    const firing = await waitFor('a new firing event', () =>
      watch.events.find((e) => e.alert.sensorId === sensor && e.type === 'firing'),
    );
    watch.close();
    const p = partitionOf(sensor, setup.partitions);
    const owner = (await clusterStatus(a)).nodes.find((n) => n.partitions.includes(p))!.id;
    const other = owner === 'node-a' ? b : a;
    await waitFor('the account on the other node', () =>
      other.accounts.file.accounts.some((x) => x.name === 'truc-ban') ? true : undefined,
    );
    const signedIn = await fetch(`${other.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'truc-ban', password }),
    });
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const ack = (origin: string) =>
      fetch(`${other.httpUrl}/api/alerts/${firing.alert.id}/ack`, {
        method: 'POST',
        headers: { cookie, origin, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'trực ban đã nhận' }),
      });
    // another site's page: refused where it arrived, never passed on
    const crossSite = await ack('https://trang-la.example');
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { code: string }).code).toBe('origin_not_allowed');
    // the console's own page (the origin the browser used, not the owner's address): done by the owner, as this person
    const own = await ack(new URL(other.httpUrl).origin);
    const body = (await own.json()) as { alert: { state: string; acknowledgedBy: string } };
    expect(own.status, JSON.stringify(body)).toBe(200);
    expect(body.alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'truc-ban' });
  });

  it('GET /api/alerts and one alert on the node that does not own it answer as the alert stream shows', async () => {
    const watchers = [await watchAlerts(a), await watchAlerts(b)];
    const sensor = 'water-kimlong'; // alarm level I: 1.0 m, II: 2.0 m (its level I alert of the first test resolved)
    const p = partitionOf(sensor, setup.partitions);
    const owner = (await clusterStatus(a)).nodes.find((n) => n.partitions.includes(p))!.id;
    const [own, other] = owner === 'node-a' ? [a, b] : [b, a];
    const otherWatch = watchers[owner === 'node-a' ? 1 : 0]!;
    const device = await own.connectDevice(sensor);
    await publishAcked(device, `ioc/water/${sensor}/readings`, JSON.stringify({ waterLevel: 1.5 }));
    const firing = await waitFor('the firing event on the other node', () =>
      otherWatch.events.find((e) => e.alert.sensorId === sensor && e.alert.ruleId === 'flood-level-1'),
    );
    const id = firing.alert.id;
    // asked at once, before the owner's commit log has reached InfluxDB: the other node's answer is the stream's
    const listed = async (node: TestPlatform) =>
      (
        (await node.request('GET', `/api/alerts?sensorId=${sensor}&state=firing,acknowledged,resolved`)).json as {
          alerts: Array<{ id: string; state: string }>;
        }
      ).alerts.find((x) => x.id === id);
    expect(await listed(other)).toMatchObject({ id, state: 'firing' });
    const one = await other.request('GET', `/api/alerts/${id}`);
    expect(one.status, one.text).toBe(200);
    expect(one.json).toMatchObject({ alert: { id, state: 'firing' } });
    // acknowledged on its owner: the other node says so once its stream has the event
    expect((await own.request('POST', `/api/alerts/${id}/ack`)).status).toBe(200);
    await waitFor('the acknowledged event on the other node', () =>
      otherWatch.events.find((e) => e.alert.id === id && e.type === 'acknowledged'),
    );
    expect(await listed(other)).toMatchObject({ id, state: 'acknowledged' });
    expect((await own.request('POST', `/api/alerts/${id}/resolve`)).status).toBe(200);
    await waitFor('the resolved event on the other node', () =>
      otherWatch.events.find((e) => e.alert.id === id && e.type === 'resolved'),
    );
    expect(await listed(other)).toMatchObject({ id, state: 'resolved' });
    expect((await other.request('GET', `/api/alerts/${id}`)).json).toMatchObject({ alert: { state: 'resolved' } });
    for (const w of watchers) w.close();
  });
});
