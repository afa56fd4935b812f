import type { Registry } from 'prom-client';
import type { PlatformConfig } from '../config/platform-config.ts';
import type { Clock } from '../core/clock.ts';
import { auditDirOf, auditLogIsKeyed } from './audit-files.ts';
import { auditKeyFileOf, openAuditKey } from './audit-key.ts';
import { AuditLog, type AuditLogger } from './audit-log.ts';
import { importPending } from './audit-pending.ts';
import { recordPlatformStop } from './platform-events.ts';

/** how often a running platform chains in what the command line left in pending/ (cli/README.md: within 5 s) */
export const PENDING_IMPORT_MS = 5000;

export interface PlatformAudit {
  readonly log: AuditLog;
  /** `<dataDir>/audit` */
  readonly dir: string;
  /** the platform's stop: stops importing the command line's entries, records `platform.stop`, closes the log */
  stop(): Promise<void>;
  /** a start that failed: stops importing and closes the log, recording nothing */
  abandon(): Promise<void>;
}

export interface PlatformAuditDeps {
  config: Pick<PlatformConfig, 'dataDir' | 'audit'>;
  clock: Clock;
  logger: AuditLogger & { child(bindings: Record<string, unknown>): AuditLogger };
  registry: Registry;
}

/**
 * The audit log as the platform runs it: its key (created at the first start, demanded once the log is
 * keyed), the log with its witness, the entries the command line left while no platform held the log, and
 * every few seconds those it leaves while this one does (`ioc credentials ...`, cli-changes.ts).
 */
export async function openPlatformAudit(deps: PlatformAuditDeps): Promise<PlatformAudit> {
  const { config, clock, logger, registry } = deps;
  const dir = auditDirOf(config.dataDir);
  const key = openAuditKey(auditKeyFileOf(config.audit.keyFile, config.dataDir), logger, auditLogIsKeyed(dir));
  const log = AuditLog.open({
    dir,
    clock,
    logger: logger.child({ module: 'audit' }),
    maxFileBytes: config.audit.maxFileBytes,
    registry,
    key,
    witness: { everyEntries: config.audit.witnessEveryEntries, everyMs: config.audit.witnessEveryMinutes * 60_000 },
  });
  const importLogger = logger.child({ module: 'audit' });
  await importPending(dir, log, importLogger);
  const timer = clock.setInterval(() => {
    void importPending(dir, log, importLogger);
  }, PENDING_IMPORT_MS);
  return {
    log,
    dir,
    async stop() {
      timer.cancel();
      await recordPlatformStop(log);
      await log.close();
    },
    async abandon() {
      timer.cancel();
      await log.close();
    },
  };
}
