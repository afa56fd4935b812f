import { connect as tcpConnect } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import { freshDatabase } from '../store/influxdb/influx-test-helpers.ts';
import { startNode } from '../cluster/cluster-test-kit.ts';

const TOPIC = 'ioc/water/water-kimlong/readings';

/**
 * Resumes a persistent session over a raw socket and says which packet the broker sent first. MQTT 3.1.1
 * [MQTT-3.2.0-1]: it must be the CONNACK. mqtt.js, for one, handles a PUBLISH before it by queueing its PUBACK
 * until it is connected, which stalls its reading: the CONNACK behind it is never read and the connect times out.
 * After the CONNACK it waits for a reading published after it (`latest()` at that moment): what was held back
 * until the CONNACK must not hold back what follows.
 */
function resume(url: string, clientId: string, token: string, latest: () => number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), hostname);
    const parser = mqttPacket.parser();
    let first: string | undefined;
    let after = Number.POSITIVE_INFINITY;
    const timer = setTimeout(
      () => finish(new Error(first ? `no reading after the ${first} within 5 s` : 'no packet within 5 s')),
      5000,
    );
    const finish = (outcome: string | Error) => {
      clearTimeout(timer);
      parser.removeAllListeners('packet');
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      if (typeof outcome === 'string') resolve(outcome);
      else reject(outcome);
    };
    parser.on('packet', (packet) => {
      first ??= packet.cmd;
      if (packet.cmd === 'connack') after = latest();
      else if (packet.cmd === 'publish' && (JSON.parse(String(packet.payload)) as { ts: number }).ts > after) {
        finish(first);
      }
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', (err) => finish(err));
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: false,
        clientId,
        keepalive: 30,
        username: 'operator',
        password: Buffer.from(token),
      }),
    );
  });
}

/**
 * A device publishes without pause to a topic an operator's persistent session subscribes at QoS 1, while the
 * operator reconnects again and again: a message delivered to the session while Aedes restores it (between
 * re-subscribing and the CONNACK) must wait for the CONNACK. Counts the first packet of each resume.
 */
async function resumesWhilePublishing(platform: TestPlatform, rounds: number): Promise<Map<string, number>> {
  const clientId = `operator-resume-${process.pid}`;
  const operator = await platform.connectOperator({ clientId, clean: false });
  await operator.subscribeAsync(TOPIC, { qos: 1 });
  await operator.endAsync();

  const device = await platform.connectDevice('water-kimlong');
  const start = Date.now() - 60_000;
  let published = start;
  let publishing = true;
  const publisher = (async () => {
    // one millisecond apart in the readings' own time, so each says which came after which
    while (publishing) await publishAcked(device, TOPIC, JSON.stringify({ ts: ++published, waterLevel: 0.5 }));
  })();
  const firsts = new Map<string, number>();
  try {
    for (let round = 0; round < rounds; round++) {
      const first = await resume(platform.mqttUrl, clientId, platform.operatorToken, () => published);
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
  } finally {
    publishing = false;
    await publisher;
  }
  return firsts;
}

// the device may publish as fast as the test needs, and the operator's queue keeps what it misses
const limits = { devicePublishesPerSecond: 1_000_000, devicePublishBurst: 1_000_000 };

describe('the CONNACK comes first when a persistent session resumes', () => {
  let redis: RedisServer;
  let influx: InfluxServer;
  let embedded: TestPlatform;
  let clustered: TestPlatform;

  beforeAll(async () => {
    [redis, influx] = await Promise.all([startRedis(), startInfluxd()]);
    const setup = {
      redisUrl: redis.url,
      influxUrl: influx.url,
      database: freshDatabase('connack'),
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

  it('on the embedded broker, 40 resumes under a stream of publishes', async () => {
    expect(Object.fromEntries(await resumesWhilePublishing(embedded, 40))).toEqual({ connack: 40 });
  }, 60_000);

  it('on a cluster node (sessions in Redis), 40 resumes under a stream of publishes', async () => {
    expect(Object.fromEntries(await resumesWhilePublishing(clustered, 40))).toEqual({ connack: 40 });
  }, 60_000);
});
