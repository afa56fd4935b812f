import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertEngine } from '../alerts/alert-service.ts';
import type { Alert } from '../alerts/alert-model.ts';
import { builtinRuleTypes } from '../alerts/rule-types.ts';
import type { City } from '../config/city-config.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { IngestEvents } from '../ingest/ingest-events.ts';
import { type AlertStreamFeed, createAlertStreamFeed } from './alert-stream-feed.ts';
import { type AlertStreamWriter, startAlertStreamWriter } from './alert-stream-writer.ts';
import { ClusterHeartbeats, type ClusterStatus } from './cluster-status.ts';
import { PartitionLeases } from './partition-leases.ts';
import { clusterKeys, partitionOf } from './partition-map.ts';
import { PartitionRouter } from './partition-router.ts';

export interface AlertClusterOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  readonly keyPrefix: string;
  readonly partitions: number;
  readonly leaseMs: number;
  readonly streamMaxLen: number;
  readonly city: City;
  /** what this node's ingest emits */
  readonly local: IngestEvents;
  /** the alerts engine's clock */
  readonly clock: Clock;
  /** real time: leases and heartbeats follow Redis' own expiry */
  readonly timers: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
}

/** What the node reports in its heartbeat, read at each beat. */
export interface NodeFacts {
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly clients: number;
  readonly commitLogLagBytes: number;
}

export interface AlertCluster {
  /** the ingest events of the partitions this node owns: what its alerts engine listens to */
  readonly events: IngestEvents;
  /** whether this node evaluates the rules of a sensor now (the alerts engine's gate) */
  owns(sensorId: string): boolean;
  /** every alert event of the cluster, in order: what this node's WebSocket hub follows */
  readonly feed: AlertStreamFeed;
  start(alerts: AlertEngine, facts: () => NodeFacts): Promise<void>;
  /** the node that owns an open alert's partition and its HTTP address; undefined when unknown or gone */
  ownerOf(alertId: string): Promise<{ nodeId: string; httpUrl: string } | undefined>;
  status(): Promise<ClusterStatus>;
  /** Clean stop: partitions released (taken over at once), heartbeat removed, connections closed. */
  stop(): Promise<void>;
}

/**
 * One alert truth across the cluster (docs/cluster.md), composed: partition leases (partition-leases.ts),
 * ingest events routed to each partition's owner (partition-router.ts), the owner's alert events written to
 * Redis fenced by its lease (alert-stream-writer.ts), every node's hub following the stream
 * (alert-stream-feed.ts), heartbeats for GET /api/cluster (cluster-status.ts).
 */
export function createAlertCluster(o: AlertClusterOptions): AlertCluster {
  const keys = clusterKeys(o.keyPrefix);
  const logger = o.logger.child({ module: 'cluster' });
  const connect = (name: string, extra: Record<string, unknown> = {}) => {
    const redis = new Redis(o.redisUrl, { connectionName: `${o.nodeId}-${name}`, ...extra });
    redis.on('error', (err: Error) => logger.debug({ err: err.message, connection: name }, 'Redis connection error'));
    return redis;
  };
  const redis = connect('alerts');
  const subscriber = connect('alerts-in', { enableReadyCheck: false });
  const reader = connect('alerts-stream');
  const startedAt = new Date().toISOString();
  const heartbeats = new ClusterHeartbeats(redis, keys, o.leaseMs);
  const metrics = clusterMetrics(o.registry);
  let fedBy = new Map<string, number[]>();
  const partitionsOf = (sensorId: string): readonly number[] =>
    fedBy.get(sensorId) ?? [partitionOf(sensorId, o.partitions)];
  const router = new PartitionRouter({
    redis,
    subscriber,
    keys,
    nodeId: o.nodeId,
    partitionsOf,
    local: o.local,
    clock: o.clock,
    timers: o.timers,
    logger,
    counted: (direction, n) => metrics.routed.inc({ direction }, n),
  });
  const feed = createAlertStreamFeed({
    redis: reader,
    queries: redis,
    keys,
    partitions: o.partitions,
    logger,
    resynced: () => metrics.resyncs.inc(),
  });
  let writer: AlertStreamWriter | undefined;
  let leases: PartitionLeases | undefined;
  let beatTimer: TimerHandle | undefined;
  const inPartition = (p: number) => (sensorId: string) => partitionOf(sensorId, o.partitions) === p;

  return {
    events: router.events,
    owns: (sensorId) => router.owns(partitionOf(sensorId, o.partitions)),
    feed,
    async start(alerts, facts) {
      // rules across sensors: a sensor's events also feed the partitions of the sensors whose rules read it
      const refreshFeeds = () => {
        fedBy = feedsOf(alerts.rules.list(), o.city, o.partitions);
      };
      refreshFeeds();
      await feed.start();
      writer = startAlertStreamWriter({
        redis,
        keys,
        nodeId: o.nodeId,
        partitions: o.partitions,
        maxLen: o.streamMaxLen,
        bus: alerts.bus,
        logger,
        refused: (reason) => metrics.refused.inc({ reason }),
      });
      // the start-up restore read every open alert from the store: this node holds none until it owns a partition
      alerts.partitions.release(() => true);
      const beat = async () => {
        const f = facts();
        refreshFeeds();
        metrics.owned.set(leases?.list().length ?? 0);
        await heartbeats
          .beat({
            id: o.nodeId,
            address: { http: f.httpUrl, mqtt: f.mqttUrl },
            upSince: startedAt,
            lastHeartbeat: new Date(o.timers.now()).toISOString(),
            partitions: leases?.list() ?? [],
            clients: f.clients,
            commitLogLagBytes: f.commitLogLagBytes,
          })
          .catch((err: Error) => logger.warn({ err: err.message }, 'cluster heartbeat could not be sent'));
      };
      await beat();
      router.start();
      leases = new PartitionLeases({
        redis,
        keys,
        nodeId: o.nodeId,
        partitions: o.partitions,
        leaseMs: o.leaseMs,
        clock: o.timers,
        logger,
        liveNodes: () => heartbeats.liveCount(),
        onAcquired: async (p) => {
          await router.adopting(p);
          const [open, seen] = await Promise.all([redis.hvals(keys.open(p)), redis.hgetall(keys.seen(p))]);
          const alertsOpen = open.map((json) => JSON.parse(json) as Alert);
          const seenAt = new Map(Object.entries(seen).map(([id, ts]) => [id, Number(ts)] as const));
          alerts.partitions.adopt(inPartition(p), alertsOpen, seenAt);
          router.adopted(p);
        },
        onLost: (p) => {
          router.released(p);
          alerts.partitions.release(inPartition(p));
        },
      });
      await leases.start();
      beatTimer = o.timers.setInterval(() => void beat(), Math.max(100, Math.floor(o.leaseMs / 3)));
      await beat();
    },
    async ownerOf(alertId) {
      const alert = feed.get(alertId);
      if (!alert) return undefined;
      const holder = await redis.get(keys.lease(partitionOf(alert.sensorId, o.partitions)));
      if (holder === null) return undefined;
      if (holder === o.nodeId) return { nodeId: holder, httpUrl: '' };
      const node = (await heartbeats.nodes(o.timers.now())).find((n) => n.id === holder && n.alive);
      return node ? { nodeId: holder, httpUrl: node.address.http } : undefined;
    },
    async status() {
      const nodes = await heartbeats.nodes(o.timers.now());
      const holders = await redis.mget(...Array.from({ length: o.partitions }, (_, p) => keys.lease(p)));
      return {
        clustered: true,
        nodeId: o.nodeId,
        partitions: o.partitions,
        unowned: holders.flatMap((h, p) => (h === null ? [p] : [])),
        nodes,
      };
    },
    async stop() {
      beatTimer?.cancel();
      await leases?.stop();
      await router.stop();
      await writer?.stop();
      feed.stop();
      await heartbeats.leave(o.nodeId).catch(() => undefined);
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** sensor id -> the partitions its events feed: its own first, then those of rules across sensors reading it */
function feedsOf(rules: readonly Parameters<typeof builtinRuleTypes.of>[0][], city: City, n: number) {
  const map = new Map<string, number[]>();
  for (const rule of rules) {
    const def = builtinRuleTypes.of(rule);
    if (!def.feeds) continue;
    for (const target of def.targets(rule as never, city)) {
      const p = partitionOf(target.id, n);
      for (const fed of def.feeds(rule as never, city, target)) {
        const list = map.get(fed) ?? [partitionOf(fed, n)];
        if (!list.includes(p)) list.push(p);
        map.set(fed, list);
      }
    }
  }
  return map;
}

function clusterMetrics(registry: Registry) {
  return {
    owned: new Gauge({
      name: 'ioc_cluster_partitions_owned',
      help: 'rule partitions this node evaluates (holds the lease of)',
      registers: [registry],
    }),
    routed: new Counter({
      name: 'ioc_cluster_ingest_events_routed_total',
      help: 'ingest events forwarded to the node owning their rule partition, or received from another node',
      labelNames: ['direction'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'ioc_cluster_alert_events_refused_total',
      help: 'alert events Redis refused (not_owner, another_alert_open, not_open) or could not take (redis_error)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    resyncs: new Counter({
      name: 'ioc_cluster_alert_stream_resyncs_total',
      help: 'times this node found the alert stream trimmed past what it had read and took its alert view anew',
      registers: [registry],
    }),
  };
}

/** The node's part of the cluster's alerts, or undefined when not clustered (single node: today's path). */
export function alertClusterOf(
  config: {
    readonly cluster: {
      readonly redis?: string | undefined;
      readonly keyPrefix: string;
      readonly alertPartitions: number;
      readonly leaseMs: number;
      readonly alertStreamMaxLen: number;
    };
  },
  nodeId: string,
  deps: Pick<AlertClusterOptions, 'city' | 'local' | 'clock' | 'timers' | 'logger' | 'registry'>,
): AlertCluster | undefined {
  const { cluster } = config;
  if (!cluster.redis) return undefined;
  return createAlertCluster({
    ...deps,
    redisUrl: cluster.redis,
    nodeId,
    keyPrefix: cluster.keyPrefix,
    partitions: cluster.alertPartitions,
    leaseMs: cluster.leaseMs,
    streamMaxLen: cluster.alertStreamMaxLen,
  });
}
