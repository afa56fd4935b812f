import { Counter, Gauge, type Registry } from 'prom-client';

/** The audit log's own metrics; without a registry (the command line) they count into nothing. */
export interface AuditMetrics {
  entries: Counter<'action'>;
  breaks: Gauge;
  writeFailures: Counter;
}

export function createAuditMetrics(registry?: Registry): AuditMetrics {
  const registers = registry ? [registry] : [];
  return {
    entries: new Counter({
      name: 'ioc_audit_entries_total',
      help: 'Audit entries recorded, by action',
      labelNames: ['action'],
      registers,
    }),
    breaks: new Gauge({
      name: 'ioc_audit_chain_breaks',
      help: 'Places where the audit hash chain is broken, at the last verification (0 = intact)',
      registers,
    }),
    writeFailures: new Counter({
      name: 'ioc_audit_write_failures_total',
      help: 'Failed writes of the audit log (each is retried)',
      registers,
    }),
  };
}
