import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent, AlertEventType } from '../alerts/alert-model.ts';
import { makeAlert } from '../alerts/delivery/alert-fixtures.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import { startAlertStreamWriter } from './alert-stream-writer.ts';
import { clusterKeys, partitionOf } from './partition-map.ts';

/** The fence in Redis, on a real Redis: what a node that lost its lease, or a second alert for a pair, gets. */
describe('alert events written to the cluster', () => {
  let redis: RedisServer;
  let conn: Redis;
  const keys = clusterKeys('test:');
  const partitions = 4;

  beforeAll(async () => {
    redis = await startRedis();
    conn = new Redis(redis.url);
  }, 30_000);
  afterAll(async () => {
    conn?.disconnect();
    await redis?.dispose();
  });

  it('appends only the lease holder’s events, one open alert per pair, numbered in order', async () => {
    const bus = new EventEmitter<{ alert: [AlertEvent] }>();
    const refused: string[] = [];
    const writer = startAlertStreamWriter({
      redis: conn,
      keys,
      nodeId: 'node-a',
      partitions,
      maxLen: 1000,
      bus,
      logger: pino({ level: 'silent' }),
      refused: (reason) => refused.push(reason),
    });
    const p = partitionOf('water-kimlong', partitions);
    const first = makeAlert({ state: 'firing' });
    const second = makeAlert({ state: 'firing' });
    const emit = (type: AlertEventType, alert = first) => bus.emit('alert', { seq: 0, type, ts: 1, alert });

    await conn.set(keys.lease(p), 'node-b');
    emit('firing'); // node A believes it owns the partition, Redis knows better
    await writer.drain();
    expect(refused).toEqual(['not_owner']);

    await conn.set(keys.lease(p), 'node-a');
    emit('firing');
    emit('firing', second); // the same (rule, sensor) pair, another alert: refused
    emit('acknowledged', makeAlert({ ruleId: 'flood-level-3' })); // an alert that is not open
    emit('resolved');
    await writer.drain();
    expect(refused).toEqual(['not_owner', 'another_alert_open', 'not_open']);
    const entries = await conn.xrange(keys.stream, '-', '+');
    expect(entries.map(([id, fields]) => [id, (JSON.parse(fields[1]!) as AlertEvent).type])).toEqual([
      ['1-0', 'firing'],
      ['2-0', 'resolved'],
    ]);
    expect(await conn.hlen(keys.open(p))).toBe(0);
    await writer.stop();
  });

  it('puts any sensor id in one partition, the same each time, within range', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 1, max: 4096 }), (sensorId, n) => {
        const p = partitionOf(sensorId, n);
        return Number.isInteger(p) && p >= 0 && p < n && partitionOf(sensorId, n) === p;
      }),
      { seed: 17, numRuns: 2000 },
    );
  });
});
