import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { defaultNodeId } from '../config/cluster-config.ts';
import type { PlatformConfig } from '../config/platform-config.ts';

/**
 * Where a node keeps its own state. In cluster mode every node has its own commit log folder, named by
 * its node id: the log is what the node acknowledged, and only that node drains it (at its restart).
 */
export function nodeIdOf(config: Pick<PlatformConfig, 'cluster'>): string {
  return config.cluster.nodeId ?? defaultNodeId();
}

export function commitLogDirOf(config: Pick<PlatformConfig, 'cluster' | 'dataDir'>): string {
  return config.cluster.redis ? join(config.dataDir, 'log', nodeIdOf(config)) : join(config.dataDir, 'log');
}

/** How a cluster module reaches the cluster's Redis as this node; undefined outside cluster mode. */
export function clusterLinkOf(
  config: Pick<PlatformConfig, 'cluster'>,
): { redisUrl: string; keyPrefix: string; nodeId: string } | undefined {
  const { redis, keyPrefix } = config.cluster;
  return redis ? { redisUrl: redis, keyPrefix, nodeId: nodeIdOf(config) } : undefined;
}

/** An outsider's text (an account name, an address, a client id) in a Redis key or field: a digest, bounded. */
export const keyDigest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);
