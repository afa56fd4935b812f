import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { auditInputSchema, type AuditInput } from './audit-entry.ts';
import { PENDING_DIR, ensureAuditDir } from './audit-files.ts';
import type { AuditLogger, AuditRecorder } from './audit-log.ts';

/**
 * Entries from another process (the command line) while the platform holds the log: one small file
 * each in `pending/`, fsynced, chained in by the platform at start and then every few seconds. The time
 * of the change travels with it (details.occurredAt); the entry's ts is when it joined the chain.
 */
const pendingSchema = z.object({ occurredAt: z.number().int(), input: auditInputSchema }).strict();

export function writePendingEntry(dir: string, input: AuditInput, occurredAt: number): string {
  ensureAuditDir(dir);
  const name = `${String(occurredAt).padStart(15, '0')}-${process.pid}-${randomBytes(4).toString('hex')}.json`;
  const file = join(dir, PENDING_DIR, name);
  const fd = openSync(`${file}.tmp`, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ occurredAt, input }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
  return file;
}

/** Chains in every pending entry, oldest first; a file that is not an entry is set aside as .rejected. */
export async function importPending(dir: string, recorder: AuditRecorder, logger: AuditLogger): Promise<number> {
  const pendingDir = join(dir, PENDING_DIR);
  let names: string[];
  try {
    names = readdirSync(pendingDir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    return 0;
  }
  let imported = 0;
  for (const name of names) {
    const file = join(pendingDir, name);
    let parsed: z.infer<typeof pendingSchema> | undefined;
    try {
      const result = pendingSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      parsed = result.success ? result.data : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      logger.warn({ file }, 'audit: a pending entry is not valid; set aside as .rejected');
      renameSync(file, `${file}.rejected`);
      continue;
    }
    const { input, occurredAt } = parsed;
    const entry = await recorder.record({ ...input, details: { ...input.details, occurredAt } });
    // deleted only once chained and on disk; a crash in between chains it twice, never loses it
    if (entry) {
      unlinkSync(file);
      imported++;
    }
  }
  return imported;
}
