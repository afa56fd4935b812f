import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { Alert, AlertEvent, AlertEventType } from '../alerts/alert-model.ts';
import { makeAlert } from '../alerts/delivery/alert-fixtures.ts';
import { AlertStreamHub } from '../alerts/delivery/alert-stream-hub.ts';
import type { ServerMessage } from '../alerts/delivery/alert-stream-protocol.ts';
import { createManualClock } from '../core/clock.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import { createAlertStreamFeed } from './alert-stream-feed.ts';
import { startAlertStreamWriter } from './alert-stream-writer.ts';
import { waitFor } from './cluster-test-kit.ts';
import { clusterKeys } from './partition-map.ts';

/**
 * A node that falls behind the shared alert stream's length limit (docs/cluster.md): on a real Redis with a small
 * limit, node B's feed is held up (its connection stuck behind a BLPOP, as behind a long pause) while node A
 * resolves an alert and raises many more, so the stream is trimmed past what B read, the resolution included.
 * B must notice the gap, take its view anew from the partitions' open hashes, say so once, count it, and give
 * its live clients a fresh snapshot; without that the resolved alert stays open on B for ever.
 */
describe('a node behind the alert stream trimming takes its view anew', () => {
  let redis: RedisServer;
  let conn: Redis;
  const keys = clusterKeys('gap:');
  const partitions = 4;

  beforeAll(async () => {
    redis = await startRedis();
    conn = new Redis(redis.url);
    // small stream nodes, so that MAXLEN ~ trims a short stream (whole nodes only) as it does a long one
    await conn.config('SET', 'stream-node-max-entries', '5');
    for (let p = 0; p < partitions; p++) await conn.set(keys.lease(p), 'node-a');
  }, 30_000);
  afterAll(async () => {
    conn?.disconnect();
    await redis?.dispose();
  });

  it('notices the gap, drops the alert resolved in it, logs once, counts it, re-snapshots its clients', async () => {
    const bus = new EventEmitter<{ alert: [AlertEvent] }>();
    const writer = startAlertStreamWriter({
      redis: conn,
      keys,
      nodeId: 'node-a',
      partitions,
      maxLen: 10,
      bus,
      logger: pino({ level: 'silent' }),
      refused: (reason) => expect.fail(`refused: ${reason}`),
    });
    const emit = (type: AlertEventType, alert: Alert) =>
      bus.emit('alert', {
        seq: 0,
        type,
        ts: 1,
        alert: { ...alert, state: type === 'resolved' ? 'resolved' : alert.state },
      });

    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const reader = new Redis(redis.url, { connectionName: 'node-b-alerts-stream' });
    let resyncs = 0;
    const feed = createAlertStreamFeed({
      redis: reader,
      queries: conn,
      keys,
      partitions,
      logger,
      blockMs: 100,
      resynced: () => resyncs++,
    });
    const flood = makeAlert({ sensorId: 'water-kimlong', ruleId: 'flood-level-2' });
    const smoke = makeAlert({ sensorId: 'air-dongba', ruleId: 'pm25-high', kind: 'air' });
    emit('firing', flood);
    await writer.drain();
    await feed.start();
    expect(feed.get(flood.id)).toBeDefined();

    // node B's live client, through the hub that follows the feed
    const hub = new AlertStreamHub({ feed, clock: createManualClock() });
    hub.start();
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => hub.attach(socket, { filter: {}, user: 'operator' }));
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    const snapshots: Array<Extract<ServerMessage, { type: 'snapshot' }>> = [];
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (message.type === 'snapshot') snapshots.push(message);
    });
    try {
      await waitFor('the first snapshot', () => (snapshots.length === 1 ? true : undefined));
      expect(snapshots[0]!.alerts.map((a) => a.id)).toEqual([flood.id]);

      // in step while nothing is trimmed: no resync
      emit('firing', smoke);
      await writer.drain();
      await waitFor('the smoke alert on node B', () => feed.get(smoke.id));
      expect(resyncs).toBe(0);

      // node B's reading connection stuck: its next XREAD waits behind this BLPOP
      void reader.blpop('gap:hold', 0);
      await waitFor('node B held up', async () =>
        /name=node-b-alerts-stream .*cmd=blpop/.test(String(await conn.client('LIST'))) ? true : undefined,
      );
      emit('resolved', flood);
      for (let i = 0; i < 30; i++) {
        const passing = makeAlert({ sensorId: `water-${i}`, ruleId: 'flood-level-1' });
        emit('firing', passing);
        emit('resolved', passing);
      }
      await writer.drain();
      // the precondition: the stream no longer holds the event B expects next (the resolution among them)
      const [[oldest]] = (await conn.xrange(keys.stream, '-', '+', 'COUNT', 1)) as [[string, string[]]];
      expect(Number(oldest.split('-')[0])).toBeGreaterThan(feed.lastSeq + 2);

      await conn.lpush('gap:hold', 'go');
      const newest = Number(await conn.get(keys.seq));
      await waitFor('node B caught up', () => (feed.lastSeq === newest ? true : undefined));
      expect(feed.get(flood.id)).toBeUndefined();
      expect(feed.open().map((a) => a.id)).toEqual([smoke.id]);
      expect(resyncs).toBe(1);
      const said = lines.filter((l) => String(l.msg).includes('trimmed past what this node had read'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatchObject({ level: 40, openBefore: 2, open: 1 });
      // the client is told anew, without the resolved alert
      await waitFor('a fresh snapshot', () => (snapshots.length === 2 ? true : undefined));
      expect(snapshots[1]!.alerts.map((a) => a.id)).toEqual([smoke.id]);
      expect(snapshots[1]!.seq).toBe(newest);

      // and follows the stream again from there, without another resync
      emit('resolved', smoke);
      await writer.drain();
      await waitFor('the smoke alert resolved on node B', () => (feed.get(smoke.id) ? undefined : true));
      expect(resyncs).toBe(1);
    } finally {
      ws.terminate();
      hub.stop();
      await new Promise((resolve) => wss.close(resolve));
      feed.stop();
      await writer.stop();
    }
  });
});
