import { hostname } from 'node:os';
import { z } from 'zod';

/** the shortest cluster.secret a node starts with (cluster/forwarding-signature.ts signs with a key derived from it) */
export const MIN_CLUSTER_SECRET_LENGTH = 32;

/**
 * Cluster mode (docs/cluster.md): several platform processes or boxes share the broker state through
 * Redis and the time series through InfluxDB. Off while `redis` is absent.
 */
export const clusterSchema = z
  .object({
    // redis://[:password@]host:port[/db]; set = cluster mode
    redis: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL such as redis://127.0.0.1:6379')
      .optional(),
    // names this node in /metrics, /api/cluster, Redis keys and its commit log folder (<dataDir>/log/<nodeId>)
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, _ . - (at most 63)')
      .optional(),
    // the key every node of the cluster holds: forwarded alert actions are signed with it (cluster/
    // forwarding-signature.ts); required in cluster mode, at least 32 characters (`openssl rand -base64 48`).
    // Never logged nor answered; keep it out of the config file's readers like the Redis password
    secret: z.string().max(4096, 'at most 4096 characters').optional(),
    // prefix of the platform's own Redis keys (node leases, open alerts, the alert stream); the broker's
    // state uses the database in the redis URL
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_:.-]{1,40}$/)
      .default('ioc:'),
    // rule partitions (hash of the sensor id): each is evaluated by the one node holding its lease; the same
    // number on every node of a cluster
    alertPartitions: z.number().int().min(1).max(4096).default(64),
    // a dead node's partitions are taken over this long after its last renewal (renewed every third of it)
    leaseMs: z.number().int().min(300).max(600_000).default(10_000),
    // the alert event stream every node's WebSocket hub follows keeps about this many events (XADD MAXLEN ~)
    alertStreamMaxLen: z.number().int().min(100).max(10_000_000).default(100_000),
    // `ioc start --workers N`: platform processes on this box (Node's cluster module shares the ports);
    // auto = one per core (cluster/workers-primary.ts)
    workers: z.union([z.number().int().min(1).max(256), z.literal('auto')]).default(1),
  })
  .strict()
  .prefault({});

export type ClusterConfig = z.output<typeof clusterSchema>;

/** The node id used when none is configured: stable across restarts of the same box and worker. */
export function defaultNodeId(worker?: number): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 50) || 'node';
  return worker === undefined ? host : `${host}-w${worker}`;
}

/** Why this configuration cannot run as a cluster node, or undefined when it can (or is not clustered). */
export function clusterProblem(cluster: ClusterConfig, storeKind: string): string | undefined {
  // checked before the Redis test below: workers without Redis are refused, never silently one process
  if (cluster.workers !== 1 && (!cluster.redis || storeKind !== 'influxdb')) {
    return (
      `cluster.workers (IOC_WORKERS, --workers) needs cluster.redis and store.engine: influxdb: the workers share ` +
      'the broker state through Redis and the readings through InfluxDB ' +
      `(got ${cluster.redis ? 'redis' : 'no redis'}, ` +
      `store.engine: ${storeKind})`
    );
  }
  if (!cluster.redis) return undefined;
  if (storeKind !== 'influxdb') {
    return (
      `cluster mode (cluster.redis / IOC_REDIS_URL) needs store.engine: influxdb: the embedded store is local to ` +
      `one process and would split the readings between nodes (got store.engine: ${storeKind})`
    );
  }
  // its length only, never a character of it: the message goes to the console and the log
  const secretLength = cluster.secret?.length ?? 0;
  if (secretLength < MIN_CLUSTER_SECRET_LENGTH) {
    return (
      `cluster mode (cluster.redis / IOC_REDIS_URL) needs cluster.secret (IOC_CLUSTER_SECRET), the same on every ` +
      `node, at least ${MIN_CLUSTER_SECRET_LENGTH} characters (e.g. openssl rand -base64 48): the nodes sign ` +
      `what they forward to each other with it (got ${secretLength === 0 ? 'none' : `${secretLength} characters`})`
    );
  }
  return undefined;
}
