import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { wireClient } from '../test-support/mqtt-wire.ts';
import { publishAcked, type TestPlatform } from '../test-support/platform-harness.ts';
import { twoClusterNodes } from './cluster-test-kit.ts';

const TOPIC = 'ioc/water/water-kimlong/readings';
const QUEUE = 5;

/**
 * A persistent session's queue bound (limits.queuedMessagesPerClient) across nodes: a message is queued by the node
 * its publisher is on and cleared by the node its subscriber acknowledges on. Counted per node, node A's count
 * only grew: once the subscriber on B had received the limit's worth of messages published on A, A dropped every
 * later one for it, acknowledged to the device and then lost while the session was away.
 */
describe('MQTT sessions across two cluster nodes', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  let redisUrl: string;
  twoClusterNodes(
    'session-queues',
    (nodeA, nodeB, redis) => {
      a = nodeA;
      b = nodeB;
      redisUrl = redis.url;
    },
    { overrides: { limits: { queuedMessagesPerClient: QUEUE, devicePublishesPerSecond: 1000 } } },
  );

  it('keeps what a device on node A sent while the session on node B was away, up to the bound', async () => {
    const login = {
      clientId: `operator-queues-${process.pid}`,
      username: 'operator',
      password: b.operatorToken,
      clean: false,
    };
    const online = wireClient(b.mqttUrl, login, { autoAck: true });
    await online.connected();
    await online.subscribe(TOPIC, 1);
    const device = await a.connectDevice('water-kimlong');
    const t0 = Date.now() - 600_000;
    const publish = (n: number) => publishAcked(device, TOPIC, JSON.stringify({ ts: t0 + n, waterLevel: 1 }));
    // three times the bound, received and acknowledged on node B one by one
    for (let n = 1; n <= 3 * QUEUE; n++) {
      await publish(n);
      await online.waitFor(`reading ${n}`, () => online.publishes().length >= n);
    }
    await online.waitFor('every reading', () => online.publishes().length === 3 * QUEUE);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the last PUBACKs reach node B
    await online.end();

    // away: two more than the bound; the first QUEUE are kept, the rest dropped (the bound holds across nodes)
    for (let n = 3 * QUEUE + 1; n <= 4 * QUEUE + 2; n++) await publish(n);
    const resumed = wireClient(b.mqttUrl, login, { autoAck: true });
    expect((await resumed.connected()).sessionPresent).toBe(true);
    await resumed.waitFor('the queued readings', () => resumed.publishes().length === QUEUE);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
    const got = resumed.publishes().map((p) => (JSON.parse(String(p.payload)) as { ts: number }).ts - t0);
    await resumed.end();
    expect(got).toEqual(Array.from({ length: QUEUE }, (_, i) => 3 * QUEUE + 1 + i));
  }, 60_000);

  // the stored will is what the other nodes publish if this node dies (Aedes' dead-broker check)
  it("keeps the new connection's will when a device's session is taken over on the same node", async () => {
    const sensor = 'air-ngomon';
    const connection = (text: string) =>
      wireClient(a.mqttUrl, {
        clientId: `${sensor}-will`,
        username: sensor,
        password: a.devicePassword(sensor),
        clean: false,
        will: { topic: `ioc/air/${sensor}/status`, payload: Buffer.from(text), qos: 1, retain: false },
      });
    const old = connection('will-of-the-old-connection');
    await old.connected();
    const taking = connection('will-of-the-new-connection');
    await taking.connected();
    await old.waitFor('the old connection closed', (p) => p.cmd === 'close');
    const redis = new Redis(redisUrl);
    try {
      // the old connection's close deletes its will once it has published it: give it that time
      await new Promise((resolve) => setTimeout(resolve, 300));
      const keys = (await redis.keys('will:*')).filter((k) => k.endsWith(`:${sensor}-will`));
      expect(keys).toHaveLength(1);
      expect((await redis.getBuffer(keys[0]!))?.includes('will-of-the-new-connection')).toBe(true);
    } finally {
      redis.disconnect();
      await taking.end();
    }
  }, 30_000);
});
