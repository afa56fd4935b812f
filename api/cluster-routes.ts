import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type ClusterStatus, clusterStatusSchema } from '../cluster/cluster-status.ts';
import { DomainError } from '../core/domain-error.ts';
import { allow } from './auth.ts';
import { errorBody } from './errors.ts';

export interface ClusterRoutesDeps {
  /** the cluster as Redis heartbeats and leases show it, or this node alone when not clustered */
  status: () => Promise<ClusterStatus>;
}

/**
 * GET /api/cluster (docs/cluster.md): the nodes, their addresses, partitions, clients and commit-log lag.
 * Admin only: it names the internal addresses of every node; per-node health stays at /api/health.
 */
export const clusterRoutes =
  (deps: ClusterRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/cluster',
      {
        config: allow('admin'),
        schema: {
          tags: ['system'],
          summary: 'The cluster: nodes (heartbeats), rule partitions each evaluates, clients, commit-log lag',
          response: { 200: clusterStatusSchema, 401: errorBody, 403: errorBody, 503: errorBody },
        },
      },
      async () => {
        try {
          return await deps.status();
        } catch (err) {
          throw new DomainError(
            'unavailable',
            'cluster_state_unreachable',
            `the cluster state could not be read from Redis: ${(err as Error).message}`,
          );
        }
      },
    );
  };
