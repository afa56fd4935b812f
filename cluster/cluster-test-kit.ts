import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import { WebSocket } from 'ws';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { eventsOf, type ServerMessage } from '../alerts/delivery/alert-stream-protocol.ts';
import type { PlatformConfigInput } from '../config/platform-config.ts';
import type { Clock, ManualClock } from '../core/clock.ts';
import { TEST_CLUSTER_SECRET } from '../test-support/cluster-fixture.ts';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import { freshDatabase } from '../store/influxdb/influx-test-helpers.ts';
import type { ClusterStatus } from './cluster-status.ts';
import { partitionOf } from './partition-map.ts';

/** Test helpers for cluster nodes in one process (cluster/*.test.ts), on a real Redis and InfluxDB. */
export interface ClusterSetup {
  readonly redisUrl: string;
  readonly influxUrl: string;
  readonly database: string;
  readonly leaseMs: number;
  readonly partitions: number;
}

/** A node on its own data dir; `seedDir` shares the first node's accounts and device secrets (docs/cluster.md). */
export async function startNode(
  setup: ClusterSetup,
  nodeId: string,
  options: { seedDir?: string; clock?: Clock; logger?: Logger; overrides?: PlatformConfigInput } = {},
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), `ioc-${nodeId}-`));
  if (options.seedDir) {
    for (const file of ['auth.json', 'credentials.json'])
      copyFileSync(join(options.seedDir, file), join(dataDir, file));
  }
  const node = await startTestPlatform({
    dataDir,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    overrides: {
      cluster: {
        redis: setup.redisUrl,
        nodeId,
        // the nodes of one cluster share its key (forwarded alert actions are signed with it)
        secret: TEST_CLUSTER_SECRET,
        leaseMs: setup.leaseMs,
        alertPartitions: setup.partitions,
      },
      store: { engine: 'influxdb', influxdb: { url: setup.influxUrl, database: setup.database } },
      ...options.overrides,
    },
  });
  const stop = node.stop.bind(node);
  return Object.assign(node, {
    stop: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(`${dataDir}.audit.key`, { force: true });
    },
  });
}

/**
 * For a describe block: a real Redis and InfluxDB (database `name`, made fresh), node A, node B seeded from A,
 * both owning their rule partitions before the first test (`use` receives them and the Redis server), all
 * stopped after the last (Redis continued first, should a test have left it stopped). `logger` logs both nodes,
 * `loggerOfA` node A alone (a test counting one node's lines).
 */
export function twoClusterNodes(
  name: string,
  use: (a: TestPlatform, b: TestPlatform, redis: RedisServer) => void,
  options: { logger?: Logger; loggerOfA?: Logger; overrides?: PlatformConfigInput; partitions?: number } = {},
): void {
  let redis: RedisServer | undefined;
  let influx: InfluxServer | undefined;
  let a: TestPlatform | undefined;
  let b: TestPlatform | undefined;
  beforeAll(async () => {
    const [r, i] = await Promise.all([startRedis(), startInfluxd()]);
    redis = r;
    influx = i;
    const setup: ClusterSetup = {
      redisUrl: r.url,
      influxUrl: i.url,
      database: freshDatabase(name),
      leaseMs: 1500,
      partitions: options.partitions ?? 8,
    };
    const { loggerOfA, logger, overrides } = options;
    const common = { ...(logger ? { logger } : {}), ...(overrides ? { overrides } : {}) };
    a = await startNode(setup, 'node-a', { ...common, ...(loggerOfA ? { logger: loggerOfA } : {}) });
    b = await startNode(setup, 'node-b', { seedDir: a.dataDir, ...common });
    await ownedBy(b, 2);
    use(a, b, r);
  }, 90_000);
  afterAll(async () => {
    const pid = redis?.pid();
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    await b?.stop();
    await a?.stop();
    await redis?.dispose();
    await influx?.dispose();
  });
}

/** An operator account with a password and an API token made on node `a`, once node `b` accepts the token. */
export async function accountMadeOn(a: TestPlatform, b: TestPlatform, name: string) {
  const password = `mật-khẩu-${name}-đủ-dài`;
  const made = await a.request('POST', '/api/accounts', {
    token: a.adminToken,
    body: { name, role: 'operator', password },
  });
  expect(made.status, made.text).toBe(201);
  const issued = await a.request('POST', `/api/accounts/${name}/tokens`, {
    token: a.adminToken,
    body: { name: 'wall-screen' },
  });
  expect(issued.status, issued.text).toBe(201);
  const { token, id } = issued.json as { token: string; id: string };
  await waitFor('node B accepting the new token', async () =>
    (await b.request('GET', '/api/session', { token })).status === 200 ? true : undefined,
  );
  return { password, token, tokenId: id };
}

export async function clusterStatus(node: TestPlatform): Promise<ClusterStatus> {
  const res = await node.request('GET', '/api/cluster', { token: node.adminToken });
  if (res.status !== 200) throw new Error(`GET /api/cluster: ${res.status} ${res.text}`);
  return res.json as ClusterStatus;
}

/** until `live` nodes are alive and every partition has an owner (readings of an unowned one are not evaluated) */
export async function ownedBy(node: TestPlatform, live: number) {
  await waitFor(`every partition owned by ${live} node(s)`, async () => {
    const status = await clusterStatus(node);
    const alive = status.nodes.filter((n) => n.alive);
    const held = alive.reduce((sum, n) => sum + n.partitions.length, 0);
    return status.unowned.length === 0 && alive.length === live && held === status.partitions ? true : undefined;
  });
}

/** Polls until `check` returns a value (not undefined), or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An operator's live alert stream on one node: the events it received, in order. */
export interface StreamWatch {
  readonly events: AlertEvent[];
  readonly snapshots: Extract<ServerMessage, { type: 'snapshot' }>[];
  /**
   * Resolves once the hub has read everything this client sent, its answers to the hub's pings included: two
   * app-level ping/pong round trips (the hub's ping frame is answered before the first pong is read).
   */
  sync(): Promise<void>;
  close(): void;
}

export async function watchAlerts(node: TestPlatform): Promise<StreamWatch> {
  const url = `${node.httpUrl.replace(/^http/, 'ws')}/api/alerts/stream?token=${node.operatorToken}`;
  const socket = new WebSocket(url);
  const events: AlertEvent[] = [];
  const snapshots: Extract<ServerMessage, { type: 'snapshot' }>[] = [];
  const pongs: Array<() => void> = [];
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (message.type === 'pong') pongs.shift()?.();
      if (message.type === 'snapshot') {
        snapshots.push(message);
        resolve();
      }
      events.push(...eventsOf(message));
    });
  });
  const roundTrip = () =>
    new Promise<void>((resolve) => {
      pongs.push(resolve);
      socket.send(JSON.stringify({ type: 'ping' }));
    });
  return {
    events,
    snapshots,
    sync: async () => {
      await roundTrip();
      await roundTrip();
    },
    close: () => socket.close(),
  };
}

/**
 * Moves a manual clock forward in steps shorter than the hub's 30 s heartbeat, letting the client answer each
 * ping: one jump of minutes would run every heartbeat at once and drop the client as dead.
 */
export async function advanceWatched(clock: ManualClock, ms: number, watch: StreamWatch): Promise<void> {
  for (let left = ms; left > 0; left -= 20_000) {
    clock.advance(Math.min(20_000, left));
    await watch.sync();
  }
}

/** the events of one (rule, sensor) pair, as `type:alertId` */
export function pairEvents(events: readonly AlertEvent[], ruleId: string, sensorId: string): string[] {
  return events
    .filter((e) => e.alert.ruleId === ruleId && e.alert.sensorId === sensorId)
    .map((e) => `${e.type}:${e.alert.id}`);
}

/** The first of `candidates` whose rule partition `node` owns, once it does (the nodes share partitions out). */
export async function sensorOwnedBy(node: TestPlatform, candidates: readonly string[]): Promise<string> {
  return waitFor(`one of ${candidates.join(', ')} owned by the node`, async () => {
    const status = await clusterStatus(node);
    const mine = status.nodes.find((n) => n.id === status.nodeId)?.partitions ?? [];
    return candidates.find((id) => mine.includes(partitionOf(id, status.partitions)));
  });
}
