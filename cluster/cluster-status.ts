import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ClusterKeys } from './partition-map.ts';

/** What a node says of itself in its heartbeat, and what GET /api/cluster lists per node. */
export const clusterNodeSchema = z.object({
  id: z.string(),
  alive: z.boolean().describe('a heartbeat within the lease time'),
  address: z.object({ http: z.string(), mqtt: z.string() }),
  upSince: z.string().describe('ISO 8601'),
  lastHeartbeat: z.string().describe('ISO 8601'),
  partitions: z.array(z.number().int()).describe('rule partitions this node evaluates'),
  clients: z.number().int().describe('MQTT clients connected to this node'),
  commitLogLagBytes: z.number().describe("bytes of this node's commit log not yet in the store"),
});
export type ClusterNode = z.infer<typeof clusterNodeSchema>;

export const clusterStatusSchema = z.object({
  clustered: z.boolean(),
  nodeId: z.string().describe('the node that answered'),
  partitions: z.number().int().describe('rule partitions in the cluster'),
  unowned: z.array(z.number().int()).describe('partitions no node holds a lease on (being taken over)'),
  nodes: z.array(clusterNodeSchema),
});
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;

type Heartbeat = Omit<ClusterNode, 'alive'>;

/** a node gone quiet this long is no longer listed */
const FORGET_AFTER_MS = 86_400_000;

/**
 * Node heartbeats in Redis (docs/cluster.md): `node:<id>` expires with the lease time, so its presence is
 * the node's liveness (and each node's fair share of partitions counts them); the `nodes` hash keeps each
 * node's last word so a dead node is still listed, as not alive, for a day.
 */
export class ClusterHeartbeats {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly leaseMs: number,
  ) {}

  async beat(heartbeat: Heartbeat): Promise<void> {
    const json = JSON.stringify(heartbeat);
    await this.redis
      .multi()
      .set(this.keys.node(heartbeat.id), json, 'PX', this.leaseMs)
      .hset(this.keys.nodes, heartbeat.id, json)
      .exec();
  }

  /** A clean stop: the node leaves the list at once and stops counting for the fair share. */
  async leave(id: string): Promise<void> {
    await this.redis.multi().del(this.keys.node(id)).hdel(this.keys.nodes, id).exec();
  }

  async nodes(now: number): Promise<ClusterNode[]> {
    const all = await this.redis.hgetall(this.keys.nodes);
    const ids = Object.keys(all).sort();
    if (ids.length === 0) return [];
    const live = await this.redis.mget(...ids.map((id) => this.keys.node(id)));
    const nodes: ClusterNode[] = [];
    ids.forEach((id, i) => {
      const heartbeat = JSON.parse(all[id]!) as Heartbeat;
      if (now - Date.parse(heartbeat.lastHeartbeat) > FORGET_AFTER_MS) return;
      nodes.push({ ...heartbeat, alive: live[i] !== null });
    });
    return nodes;
  }

  async liveCount(): Promise<number> {
    const ids = await this.redis.hkeys(this.keys.nodes);
    if (ids.length === 0) return 0;
    return (await this.redis.mget(...ids.map((id) => this.keys.node(id)))).filter((v) => v !== null).length;
  }
}

/** GET /api/cluster on a node that is not clustered: itself alone, evaluating every rule. */
export function singleNodeStatus(node: Omit<ClusterNode, 'alive' | 'partitions'>): ClusterStatus {
  return {
    clustered: false,
    nodeId: node.id,
    partitions: 1,
    unowned: [],
    nodes: [{ ...node, alive: true, partitions: [0] }],
  };
}
