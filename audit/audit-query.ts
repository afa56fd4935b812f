import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditEntrySchema, type AuditEntry } from './audit-entry.ts';
import { listAuditFiles } from './audit-files.ts';

/**
 * Reading the log back: filters, newest-first pages with a seq cursor, and an oldest-first walk for
 * export. Lines that do not parse are skipped here (verification is what reports them). Audit entries
 * are rare (people's actions, not readings), so files are read whole; rotation bounds each one.
 */
export interface AuditFilter {
  /** epoch ms, inclusive */
  from?: number;
  /** epoch ms, exclusive */
  to?: number;
  /** the actor's name, exactly */
  actor?: string;
  /** actions: exact (`alert.acknowledge`) or a prefix of whole words (`alert` = alert.*) */
  action?: readonly string[];
}

export interface AuditPage {
  entries: AuditEntry[];
  /** pass as `cursor` for the next (older) page; absent on the last page */
  nextCursor?: number;
}

export function matchesFilter(e: AuditEntry, f: AuditFilter): boolean {
  if (f.from !== undefined && e.ts < f.from) return false;
  if (f.to !== undefined && e.ts >= f.to) return false;
  if (f.actor !== undefined && e.actor.name !== f.actor) return false;
  if (f.action?.length && !f.action.some((a) => e.action === a || e.action.startsWith(`${a}.`))) return false;
  return true;
}

function parseLine(line: string): AuditEntry | undefined {
  try {
    const parsed = auditEntrySchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Newest first; `cursor`: only entries with a seq below it (the previous page's nextCursor). */
export function queryAudit(dir: string, filter: AuditFilter, limit: number, cursor?: number): AuditPage {
  const entries: AuditEntry[] = [];
  const files = listAuditFiles(dir).reverse();
  for (const name of files) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const e = lines[i] ? parseLine(lines[i]!) : undefined;
      if (!e || (cursor !== undefined && e.seq >= cursor) || !matchesFilter(e, filter)) continue;
      if (entries.length === limit) return { entries, nextCursor: entries[entries.length - 1]!.seq };
      entries.push(e);
    }
  }
  return { entries };
}

/** Oldest first, file by file: the raw lines (an NDJSON export verifies with the same code) and entries. */
export function* walkAudit(dir: string, filter: AuditFilter): Generator<{ line: string; entry: AuditEntry }> {
  for (const name of listAuditFiles(dir)) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      const entry = line ? parseLine(line) : undefined;
      if (entry && matchesFilter(entry, filter)) yield { line, entry };
    }
  }
}

const CSV_COLUMNS = [
  'seq',
  'time',
  'actor',
  'role',
  'address',
  'action',
  'target',
  'outcome',
  'details',
  'hash',
] as const;

function csvCell(value: string): string {
  // quoted always; a leading =, +, - or @ is prefixed so a spreadsheet does not run it as a formula
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/** One CSV row (RFC 4180, CRLF); the time in UTC ISO-8601, as a spreadsheet sorts it. */
export function csvRow(e: AuditEntry): string {
  const cells = [
    String(e.seq),
    new Date(e.ts).toISOString(),
    e.actor.name,
    e.actor.role,
    e.address ?? '',
    e.action,
    e.target ?? '',
    e.outcome,
    e.details ? JSON.stringify(e.details) : '',
    e.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}
