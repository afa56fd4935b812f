import type { HealthReport } from './api/system-routes.ts';
import type { AuditLog } from './audit/audit-log.ts';
import type { DurablePipeline } from './store/durable-pipeline.ts';

export interface HealthParts {
  readonly pipeline: Pick<DurablePipeline, 'health'>;
  readonly audit: Pick<AuditLog, 'state'>;
  readonly broker: { readonly connectedClients: number };
  readonly insecure: boolean;
  /** epoch ms of the start, for uptimeSeconds */
  readonly startedAt: number;
}

/**
 * What /api/health reports, gathered from the parts that know it (the composition root's helper): the
 * write path decides `down` (nothing can be acknowledged) and `degraded` (disk low, store behind, damage);
 * an audit log whose chain broke or that cannot write makes the platform `degraded` too.
 */
export function platformHealth(parts: HealthParts): () => HealthReport {
  return () => {
    const p = parts.pipeline.health();
    const auditState = parts.audit.state();
    const auditFailing = auditState.chain === 'broken' || Boolean(auditState.writeError);
    return {
      status: p.status === 'down' ? 'down' : p.status === 'degraded' || auditFailing ? 'degraded' : 'ok',
      integrity: p.integrity,
      audit: {
        chain: auditState.chain,
        reason: auditState.reason,
        writeError: auditState.writeError,
        seq: auditState.head.seq,
      },
      insecure: parts.insecure,
      broker: { ready: true, clients: parts.broker.connectedClients },
      store: p.store,
      uptimeSeconds: Math.round((Date.now() - parts.startedAt) / 1000),
      storage: p.storage,
    };
  };
}
