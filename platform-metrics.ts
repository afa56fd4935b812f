import { collectDefaultMetrics, Registry } from 'prom-client';
import { nodeIdOf } from './cluster/cluster-node.ts';
import type { PlatformConfig } from './config/platform-config.ts';

/**
 * The platform's metrics registry, served at /metrics (the composition root's helper): Node's process
 * figures under `ioc_process_`, and in a cluster every series labelled with its node id so the nodes are
 * told apart.
 */
export function createPlatformMetrics(config: PlatformConfig): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ioc_process_' });
  if (config.cluster.redis) registry.setDefaultLabels({ node: nodeIdOf(config) });
  // prom-client names three gauges `_total`, which Prometheus reserves for counters; the same figures stay
  // without the suffix (ioc_process_nodejs_active_handles, ...)
  for (const what of ['handles', 'requests', 'resources'])
    registry.removeSingleMetric(`ioc_process_nodejs_active_${what}_total`);
  return registry;
}
