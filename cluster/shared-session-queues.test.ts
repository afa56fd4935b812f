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
describe('persistent session queues across two cluster nodes', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  twoClusterNodes(
    'session-queues',
    (nodeA, nodeB) => {
      a = nodeA;
      b = nodeB;
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
});
