import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AuditKey } from './audit-key.ts';
import { ChainVerifier, type ChainStatus } from './audit-verify.ts';

/**
 * The audit directory (`<dataDir>/audit`, mode 0700, files 0600):
 * - `audit.log`: the active file, one entry per line, appended to;
 * - `audit-<first seq, 12 digits>.log`: earlier files, rotated by size; the chain runs on across them
 *   (the first entry of a file names the last hash of the one before);
 * - `audit.head`: seq and hash of the last durable entry, so cutting lines off the end shows;
 * - `pending/`: entries written by the command line while the platform runs, chained in by the platform.
 */
export const ACTIVE_FILE = 'audit.log';
export const HEAD_FILE = 'audit.head';
export const PENDING_DIR = 'pending';
const ROTATED_RE = /^audit-(\d{12})\.log$/;

export const rotatedName = (firstSeq: number): string => `audit-${String(firstSeq).padStart(12, '0')}.log`;

export function auditDirOf(dataDir: string): string {
  return join(dataDir, 'audit');
}

export function ensureAuditDir(dir: string): void {
  mkdirSync(join(dir, PENDING_DIR), { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to what it creates: an older, looser directory is tightened too
  chmodSync(dir, 0o700);
  chmodSync(join(dir, PENDING_DIR), 0o700);
}

/** Oldest first: rotated files by their first seq, then the active one. */
export function listAuditFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir);
  const rotated = names.filter((n) => ROTATED_RE.test(n)).sort();
  return names.includes(ACTIVE_FILE) ? [...rotated, ACTIVE_FILE] : rotated;
}

const headSchema = z.object({ seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export type AuditHead = z.infer<typeof headSchema>;

/** undefined when there is no head yet; a damaged head is reported by the caller as a break. */
export function readHead(dir: string): AuditHead | 'damaged' | undefined {
  const file = join(dir, HEAD_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = headSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : 'damaged';
  } catch {
    return 'damaged';
  }
}

export function writeHead(dir: string, head: AuditHead): void {
  const file = join(dir, HEAD_FILE);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(head));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** The last complete line of a file's text, if any. */
export function lastLine(text: string): string | undefined {
  const end = text.endsWith('\n') ? text.length - 1 : text.length;
  if (end <= 0) return undefined;
  const start = text.lastIndexOf('\n', end - 1) + 1;
  return text.slice(start, end);
}

/** Full verification of every file, oldest first, against the head. */
export function verifyAuditDir(dir: string, key?: AuditKey): ChainStatus & { pending: number } {
  const verifier = new ChainVerifier(undefined, key);
  for (const name of listAuditFiles(dir)) verifier.feedFile(name, readFileSync(join(dir, name), 'utf8'));
  const head = readHead(dir);
  const status = verifier.finish(head === 'damaged' ? undefined : head);
  if (head === 'damaged') {
    status.breaks.push({ file: HEAD_FILE, line: 0, reason: `${HEAD_FILE} is not readable: it was changed` });
    status.ok = false;
  }
  return { ...status, pending: countPending(dir) };
}

export function countPending(dir: string): number {
  const pending = join(dir, PENDING_DIR);
  return existsSync(pending) ? readdirSync(pending).filter((n) => n.endsWith('.json')).length : 0;
}

/** Whether the audit log holds entries signed with a key (a MAC): its last line says, the chain being whole. */
export function auditLogIsKeyed(dir: string): boolean {
  const files = listAuditFiles(dir);
  const newest = files.at(-1);
  if (!newest) return false;
  const line = lastLine(readFileSync(join(dir, newest), 'utf8'));
  return line?.includes('"mac":"') === true;
}
