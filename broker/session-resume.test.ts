import type { IPublishPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../cluster/cluster-test-kit.ts';
import { freshDatabase } from '../store/influxdb/influx-test-helpers.ts';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import { wireClient } from '../test-support/mqtt-wire.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';

const TOPIC = 'ioc/water/water-kimlong/readings';
const tsOf = (p: IPublishPacket) => (JSON.parse(String(p.payload)) as { ts: number }).ts;

/**
 * A device publishing without pause to the topic an operator's persistent session subscribes at QoS 1; `last()`
 * is the reading time of the latest acknowledged publish (one millisecond apart, so each says which came first).
 */
async function streamReadings(platform: TestPlatform) {
  const device = await platform.connectDevice('water-kimlong');
  let last = Date.now() - 3_600_000;
  const publish = () => publishAcked(device, TOPIC, JSON.stringify({ ts: ++last, waterLevel: 0.5 }));
  let running = false;
  let loop = Promise.resolve();
  return {
    last: () => last,
    publish,
    start() {
      running = true;
      loop = (async () => {
        while (running) await publish();
      })();
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** What the wire must show when a persistent session resumes (broker/session-resume.ts), on one kind of broker. */
function resumeTests(name: string, platform: () => TestPlatform) {
  const login = (p: TestPlatform, clientId: string) => ({
    clientId,
    username: 'operator',
    password: p.operatorToken,
    clean: false,
  });
  const persistentSession = async (p: TestPlatform, clientId: string) => {
    const first = wireClient(p.mqttUrl, login(p, clientId));
    await first.connected();
    await first.subscribe(TOPIC, 1);
    return first;
  };

  describe(name, () => {
    it('sends the CONNACK first [MQTT-3.2.0-1] in 40 resumes under a stream of publishes', async () => {
      const p = platform();
      const clientId = `operator-connack-${process.pid}`;
      await (await persistentSession(p, clientId)).end();
      const readings = await streamReadings(p);
      readings.start();
      const firsts: string[] = [];
      try {
        for (let round = 0; round < 40; round++) {
          const resumed = wireClient(p.mqttUrl, login(p, clientId), { autoAck: true });
          const first = await resumed.waitFor('packet', () => true);
          firsts.push(first.cmd);
          // and what is published after the CONNACK still comes: what was held back is let go
          const after = readings.last();
          await resumed.waitFor('a reading published after the CONNACK', (q) => q.cmd === 'publish' && tsOf(q) > after);
          await resumed.end();
        }
      } finally {
        await readings.stop();
      }
      expect(firsts.filter((cmd) => cmd !== 'connack')).toEqual([]);
    }, 60_000);

    it('sends the queue, then what came meanwhile: each reading once, in order [MQTT-4.6.0-6]', async () => {
      const p = platform();
      const clientId = `operator-order-${process.pid}`;
      await (await persistentSession(p, clientId)).end();
      const readings = await streamReadings(p);
      const from = readings.last() + 1;
      for (let i = 0; i < 50; i++) await readings.publish(); // queued while the session is away
      readings.start();
      const resumed = wireClient(p.mqttUrl, login(p, clientId), { autoAck: true });
      await resumed.connected();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await readings.stop();
      const to = readings.last();
      await resumed.waitFor('the last reading', (q) => q.cmd === 'publish' && tsOf(q) === to);
      expect(resumed.received.filter((q) => q.cmd === 'close')).toEqual([]); // the broker did not close it
      await resumed.end();
      const got = resumed.publishes().map(tsOf);
      expect(got.length).toBeGreaterThan(50);
      expect(got).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
    }, 60_000);

    it('re-sends what was not acknowledged with its own packet identifier and DUP set [MQTT-4.4.0-1]', async () => {
      const p = platform();
      // two sessions on the topic: a queued message is one body for both in Redis, which must not lend one
      // session's identifiers to the other
      const [x, y] = [`operator-dup-x-${process.pid}`, `operator-dup-y-${process.pid}`];
      const first = await persistentSession(p, x);
      const other = await persistentSession(p, y);
      const readings = await streamReadings(p);
      for (let i = 0; i < 3; i++) await readings.publish();
      await first.waitFor('3 readings', () => first.publishes().length === 3);
      await other.waitFor('3 readings', () => other.publishes().length === 3);
      await first.end(true); // the network drops: no PUBACK was sent
      await other.end(true);
      // the other session resumes first and is sent the three again, under its identifiers
      const otherAgain = wireClient(p.mqttUrl, login(p, y));
      await otherAgain.waitFor('3 readings again', () => otherAgain.publishes().length === 3);
      await otherAgain.end(true);
      const resumed = wireClient(p.mqttUrl, login(p, x));
      expect((await resumed.connected()).sessionPresent).toBe(true);
      await resumed.waitFor('3 readings again', () => resumed.publishes().length === 3);
      const sent = first.publishes().map((q) => ({ id: q.messageId, ts: tsOf(q), dup: false }));
      expect(resumed.publishes().map((q) => ({ id: q.messageId, ts: tsOf(q), dup: q.dup }))).toEqual(
        sent.map((q) => ({ ...q, dup: true })),
      );
      for (const q of resumed.publishes()) resumed.send({ cmd: 'puback', messageId: q.messageId! });
      await resumed.end();
    }, 30_000);
  });
}

// the device may publish as fast as the test needs, and the operator's queue keeps what it misses
const limits = { devicePublishesPerSecond: 1_000_000, devicePublishBurst: 1_000_000 };

describe('a persistent session resuming', () => {
  let redis: RedisServer;
  let influx: InfluxServer;
  let embedded: TestPlatform;
  let clustered: TestPlatform;

  beforeAll(async () => {
    [redis, influx] = await Promise.all([startRedis(), startInfluxd()]);
    const setup = {
      redisUrl: redis.url,
      influxUrl: influx.url,
      database: freshDatabase('resume'),
      leaseMs: 10_000,
      partitions: 4,
    };
    [embedded, clustered] = await Promise.all([
      startTestPlatform({ overrides: { limits } }),
      startNode(setup, 'node-a', { overrides: { limits } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await clustered?.stop();
    await embedded?.stop();
    await redis?.dispose();
    await influx?.dispose();
  });

  resumeTests('on the embedded broker', () => embedded);
  resumeTests('on a cluster node (sessions in Redis)', () => clustered);
});
