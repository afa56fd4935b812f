import { Gauge, type Registry } from 'prom-client';
import type { LogDamageReporter } from './log-damage-report.ts';
import type { FeederState } from './store-feeder.ts';

/**
 * The commit log's integrity as /api/health shows it: damaged log regions and records the store refused
 * for good are both data set aside in quarantine, so both make the platform `degraded` with a reason an
 * operator can act on (look in the quarantine folder).
 */
export interface IntegrityReport {
  readonly state: 'ok' | 'damaged';
  readonly reasons: string[];
  readonly damagedRegions: number;
  readonly tornTails: number;
  readonly quarantinedRecords: number;
  readonly quarantineDir: string;
}

export function integrityReport(damage: LogDamageReporter, feeder: FeederState): IntegrityReport {
  const d = damage.state();
  const reasons: string[] = [];
  if (d.lastReason)
    reasons.push(d.damagedRegions > 1 ? `${d.lastReason} (and ${d.damagedRegions - 1} more region(s))` : d.lastReason);
  if (feeder.lastQuarantine) reasons.push(feeder.lastQuarantine);
  return {
    state: reasons.length ? 'damaged' : 'ok',
    reasons,
    damagedRegions: d.damagedRegions,
    tornTails: d.tornTails,
    quarantinedRecords: feeder.quarantinedRecords,
    quarantineDir: d.quarantineDir,
  };
}

/** The store-side counterpart of ioc_log_damaged_records_total (a gauge over the feeder's count since start). */
export function registerIntegrityMetrics(registry: Registry, feeder: () => FeederState): void {
  new Gauge({
    name: 'ioc_store_quarantined_records',
    help: 'Commit-log records the store refused for good since start, set aside in the quarantine folder',
    registers: [registry],
    collect() {
      this.set(feeder().quarantinedRecords);
    },
  });
}
