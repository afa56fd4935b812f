/**
 * Rule partitions (docs/cluster.md): a sensor's (rule, sensor) pairs belong to partition
 * fnv1a(sensorId) mod n, the same on every node, so every node agrees without asking which node
 * evaluates a sensor's rules.
 */
export function partitionOf(sensorId: string, partitions: number): number {
  // FNV-1a over UTF-16 code units: stable across processes and Node versions, unlike a seeded hash
  let hash = 0x811c9dc5;
  for (let i = 0; i < sensorId.length; i++) {
    hash ^= sensorId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/** The platform's own Redis keys for alerts in a cluster, under cluster.keyPrefix. */
export interface ClusterKeys {
  /** string: the node id holding partition p's lease (SET NX PX, renewed) */
  lease(p: number): string;
  /** hash: `<ruleId>\u0001<sensorId>` -> the open alert (JSON) of partition p */
  open(p: number): string;
  /** hash: sensor id -> epoch ms it was last heard of, for partition p's no-data rules at a hand-over */
  seen(p: number): string;
  /** pub/sub channel: ingest events for partition p that arrived on a node not owning it */
  input(p: number): string;
  /** stream: every alert event of the cluster, id `<seq>-0` */
  readonly stream: string;
  /** counter: the newest event's seq */
  readonly seq: string;
  /** set of node ids that ever sent a heartbeat */
  readonly nodes: string;
  /** string with PX: the node's newest heartbeat (JSON) */
  node(id: string): string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    lease: (p) => `${prefix}partition:${p}:lease`,
    open: (p) => `${prefix}partition:${p}:open`,
    seen: (p) => `${prefix}partition:${p}:seen`,
    input: (p) => `${prefix}partition:${p}:input`,
    stream: `${prefix}alerts:stream`,
    seq: `${prefix}alerts:seq`,
    nodes: `${prefix}nodes`,
    node: (id) => `${prefix}node:${id}`,
  };
}
