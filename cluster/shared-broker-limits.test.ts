import { connect as connectTcp, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { publishAcked, type TestPlatform, tryConnect } from '../test-support/platform-harness.ts';
import type { RedisServer } from '../test-support/redis-server.ts';
import { twoClusterNodes } from './cluster-test-kit.ts';

/**
 * Issue 17 item 3 and the trust model's "limits per principal and per address": behind a round-robin balancer
 * one address or account reaches every node. Two nodes in one process on a real Redis and InfluxDB, real MQTT
 * sockets: sockets from one address and connections of one account are limited for the cluster, a device
 * penalised on one node is refused on the other, and a node's report that is not valid is skipped, not
 * believed.
 */
describe('MQTT connection limits and CONNECT penalties are the cluster’s, not each node’s', () => {
  let redis: RedisServer;
  let a: TestPlatform;
  let b: TestPlatform;
  const logs = captureLogs();
  const limits = {
    connectionsPerAddress: 6,
    connectionsPerAccount: 2,
    devicePublishesPerSecond: 1,
    devicePublishBurst: 5,
    rateHoldMaxMs: 1,
    abusiveRefusalsBeforeDisconnect: 3,
    abusePenaltySeconds: 30,
  };
  twoClusterNodes(
    'mqttlimits',
    (na, nb, r) => {
      a = na;
      b = nb;
      redis = r;
    },
    { loggerOfA: logs.logger, overrides: { limits }, partitions: 4 },
  );

  const mqttPort = (node: TestPlatform) => Number(new URL(node.mqttUrl).port);
  /** a raw socket to the node's MQTT port: 'held' if the node keeps it open, 'closed' if it closes it at once */
  const openSocket = (node: TestPlatform) =>
    new Promise<{ socket: Socket; verdict: 'held' | 'closed' }>((resolve) => {
      const socket = connectTcp(mqttPort(node), '127.0.0.1');
      socket.on('error', () => undefined);
      const timer = setTimeout(() => resolve({ socket, verdict: 'held' }), 400);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve({ socket, verdict: 'closed' });
      });
    });
  const closeAll = async (sockets: Socket[]) => {
    await Promise.all(
      sockets.map((s) => (s.destroyed ? undefined : new Promise<void>((r) => s.once('close', () => r()).destroy()))),
    );
  };
  const refusedTotal = async (node: TestPlatform, reason: string): Promise<number> => {
    const m = new RegExp(`ioc_mqtt_refused_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`).exec(
      (await node.request('GET', '/metrics')).text,
    );
    return Number(m?.[1] ?? 0);
  };
  /** a device of the seeded fleet connecting to `node` */
  const deviceOn = (node: TestPlatform, sensorId: string, clientId = sensorId) =>
    tryConnect(node.mqttUrl, { username: sensorId, password: a.devicePassword(sensorId), clientId });
  /** the refusal code a device's CONNECT gets on `node` (undefined: accepted, and closed again) */
  const connackOf = async (node: TestPlatform, sensorId: string) => {
    const attempt = await deviceOn(node, sensorId);
    await attempt.client?.endAsync(true);
    return attempt.code;
  };
  /** the node's view of what the other reported, once it has caught up */
  const reported = () => new Promise((r) => setTimeout(r, 2500));

  it('limits sockets from one address across both nodes, and frees the count when they close', async () => {
    const onA: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const { socket, verdict } = await openSocket(a);
      expect(verdict).toBe('held');
      onA.push(socket);
    }
    await reported();
    const onB: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const { socket, verdict } = await openSocket(b);
      expect(verdict).toBe('held');
      onB.push(socket);
    }
    // six held in all: a seventh is refused by node B, though B itself holds two
    expect((await openSocket(b)).verdict).toBe('closed');
    expect(await refusedTotal(b, 'connections_per_address')).toBeGreaterThanOrEqual(1);
    await closeAll(onA);
    await reported();
    const again = await openSocket(b);
    expect(again.verdict).toBe('held');
    await closeAll([...onB, again.socket]);
    await reported();
  });

  it('limits an account’s connections across both nodes (a takeover of its own client id still allowed)', async () => {
    const device = (node: TestPlatform, clientId: string) => deviceOn(node, 'air-ancuu', clientId);
    const one = await device(a, 'air-ancuu-1');
    const two = await device(a, 'air-ancuu-2');
    expect([one.ok, two.ok]).toEqual([true, true]);
    await reported();
    expect(await device(b, 'air-ancuu-3')).toEqual({ ok: false, code: 3 });
    expect(await refusedTotal(b, 'connections_per_account')).toBeGreaterThanOrEqual(1);
    // the same client id moving to node B takes its own session over: not one too many
    const moved = await device(b, 'air-ancuu-2');
    expect(moved.ok).toBe(true);
    await one.client!.endAsync();
    await reported();
    const three = await device(b, 'air-ancuu-3');
    expect(three.ok).toBe(true);
    await Promise.all([moved, three, two].map((c) => c.client?.endAsync(true)));
    await reported();
  });

  it('refuses on node B a device that node A disconnected as abusive, for the penalty’s time', async () => {
    const connected = await deviceOn(a, 'air-kimlong');
    expect(connected.ok).toBe(true);
    const client = connected.client as MqttClient;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    for (let i = 0; i < 20; i++)
      client.publish('ioc/air/air-kimlong/readings', JSON.stringify({ pm25: i }), { qos: 0 });
    await closed;
    client.end(true);
    expect(await refusedTotal(a, 'abusive')).toBe(1);
    await expect.poll(() => connackOf(b, 'air-kimlong'), { timeout: 5000 }).toBe(3);
    expect(await refusedTotal(b, 'penalty')).toBeGreaterThanOrEqual(1);
    // another device is not held by it
    const other = await deviceOn(b, 'air-ngomon');
    expect(other.ok).toBe(true);
    await other.client?.endAsync();
  });

  it('charges what a device sent through node A to its budget on node B: one budget, not one per node', async () => {
    const onA = await deviceOn(a, 'air-dongba', 'air-dongba-a');
    expect(onA.ok).toBe(true);
    // its whole burst (5) through A
    for (let i = 0; i < 5; i++)
      await publishAcked(onA.client!, 'ioc/air/air-dongba/readings', JSON.stringify({ pm25: 10 + i }));
    await reported();
    const before = await refusedTotal(b, 'rate_limited');
    const onB = await deviceOn(b, 'air-dongba', 'air-dongba-b');
    expect(onB.ok).toBe(true);
    // node B's own bucket would hold 5; charged with A's 5, it holds what refilled since (1/s): some are refused
    for (let i = 0; i < 3; i++)
      onB.client!.publish('ioc/air/air-dongba/readings', JSON.stringify({ pm25: 20 + i }), { qos: 0 });
    await expect.poll(() => refusedTotal(b, 'rate_limited'), { timeout: 5000 }).toBeGreaterThan(before);
    await Promise.all([onA, onB].map((c) => c.client?.endAsync(true)));
  });

  it('skips what another node wrote to Redis that is not valid, counts it, and goes on', async () => {
    const writer = new Redis(redis.url);
    const prefix = a.config.cluster.keyPrefix;
    const refusedOn = async (node: TestPlatform, entry: string) =>
      Number(
        new RegExp(`ioc_cluster_shared_limit_entries_refused_total\\{[^}]*entry="${entry}"[^}]*\\} (\\d+)`).exec(
          (await node.request('GET', '/metrics')).text,
        )?.[1] ?? 0,
      );
    try {
      await writer
        .multi()
        .hset(
          `${prefix}conns:node:node-z`,
          ...['alive', '1', 's\u0000127.0.0.1', '-5', 'c\u0000device:air-ancuu', '{"x":"many"}', 'zz', '1'],
        )
        .pexpire(`${prefix}conns:node:node-z`, 60_000)
        // a member that is no node id, and one whose hash is gone: dropped from the set, never read as counts
        .sadd(`${prefix}conns:nodes`, 'node-z', 'nodes', 'không phải id', 'node-gone')
        .exec();
      // what the penalties channel may carry instead of a notice: none of it may throw in the subscriber
      for (const text of [
        JSON.stringify({ node: 'node-z', key: 'account\u0000air-ngomon', remainingMs: 10 ** 12, ms: 1 }),
        '{not json',
        'null',
        '[]',
        '"x"',
        '{"node":null}',
      ])
        await writer.publish(`${prefix}penalties`, text);
      await expect.poll(() => refusedOn(b, 'penalty'), { timeout: 5000 }).toBeGreaterThanOrEqual(6);
      await expect.poll(() => refusedOn(b, 'connections'), { timeout: 5000 }).toBeGreaterThanOrEqual(3);
      await expect
        .poll(async () => (await writer.smembers(`${prefix}conns:nodes`)).sort(), { timeout: 5000 })
        .toEqual(['node-a', 'node-b', 'node-z']);
      // none of it held: the device named in the penalty connects, sockets are admitted
      const named = await deviceOn(b, 'air-ngomon');
      expect(named.ok).toBe(true);
      await named.client?.endAsync();
      const { socket, verdict } = await openSocket(b);
      expect(verdict).toBe('held');
      await closeAll([socket]);
    } finally {
      await writer.del(`${prefix}conns:node:node-z`);
      await writer.srem(`${prefix}conns:nodes`, 'node-z');
      writer.disconnect();
    }
  });

  it('reads the running penalties again when its subscriber reconnects (notices sent meanwhile are lost)', async () => {
    const writer = new Redis(redis.url);
    const prefix = a.config.cluster.keyPrefix;
    try {
      // a penalty kept in Redis as a node keeps it, but never published: only a read of the keys finds it
      const notice = { node: 'node-z', key: 'account\u0000air-thuanan', remainingMs: 30_000, ms: 30_000 };
      await writer.set(`${prefix}penalty:doc-lai`, JSON.stringify(notice), 'PX', 30_000);
      const before = await deviceOn(b, 'air-thuanan');
      expect(before.ok).toBe(true);
      await before.client?.endAsync(true);
      await writer.client('KILL', 'TYPE', 'pubsub');
      await expect.poll(() => connackOf(b, 'air-thuanan'), { timeout: 10_000 }).toBe(3);
    } finally {
      await writer.del(`${prefix}penalty:doc-lai`);
      writer.disconnect();
    }
  });

  it('falls back to each node’s own limits while Redis does not answer, said once, then counts again', async () => {
    const onA: Socket[] = [];
    for (let i = 0; i < 5; i++) onA.push((await openSocket(a)).socket);
    await reported();
    expect((await openSocket(b)).verdict).toBe('held');
    const refused = await openSocket(b);
    expect(refused.verdict).toBe('closed');
    const pid = redis.pid()!;
    process.kill(pid, 'SIGSTOP');
    try {
      // the other node's counts are dropped once older than 5 s: node B's own limit (6) decides
      await new Promise((r) => setTimeout(r, 6500));
      const own = await openSocket(b);
      expect(own.verdict).toBe('held');
      onA.push(own.socket);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await expect
      .poll(() => logs.lines.filter((l) => /shared MQTT limits: Redis answers again/.test(String(l.msg))).length, {
        timeout: 10_000,
      })
      .toBe(1);
    expect(logs.lines.filter((l) => /shared MQTT limits: Redis did not answer/.test(String(l.msg)))).toHaveLength(1);
    await closeAll(onA);
  }, 30_000);
});
