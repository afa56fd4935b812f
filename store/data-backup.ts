import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { DATA_DIR_LOCK_FILE, runningPid } from './data-dir-lock.ts';

/**
 * A consistent copy of a data directory, taken while the platform runs, and putting it back.
 *
 * Order is what makes it consistent. The store's checkpoint says "everything before offset C is in the
 * store"; the commit log holds everything from C on. So: (1) read the checkpoints, (2) copy the log's
 * segments, (3) take the SQLite online backup. The store copy then holds at least everything before C,
 * the log copy everything after, and replaying the log from C at start lands points that are already
 * there on themselves (harmless). A segment can only be released after the checkpoint moved past it: if
 * one vanishes during step 2 the copy would have a gap, so it starts again.
 */
export const SQLITE_FILE = 'ioc.sqlite';
const MANIFEST = 'ioc-backup.json';
const SKIP = new Set([
  SQLITE_FILE,
  `${SQLITE_FILE}-wal`,
  `${SQLITE_FILE}-shm`,
  `${SQLITE_FILE}-journal`,
  DATA_DIR_LOCK_FILE,
  'log',
]);

export interface BackupManifest {
  format: 1;
  createdAt: string;
  source: string;
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function filesUnder(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path, base));
    else if (entry.isFile()) out.push(relative(base, path));
  }
  return out.sort();
}

function copyInto(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/** Copies the commit log (checkpoints first); false when a segment was released under the copy. */
function copyLog(logDir: string, outLog: string): boolean {
  // the quarantine folder (damaged bytes set aside) is evidence for a person, not part of the data: not copied
  const before = readdirSync(logDir).filter((f) => !f.endsWith('.checkpoint') && f !== 'quarantine');
  for (const f of readdirSync(logDir).filter((n) => n.endsWith('.checkpoint')))
    copyInto(join(logDir, f), join(outLog, f));
  for (const f of before) {
    try {
      copyInto(join(logDir, f), join(outLog, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
  // segments begun meanwhile: more than the checkpoint needs, harmless
  for (const f of readdirSync(logDir))
    if (!f.endsWith('.checkpoint') && f !== 'quarantine' && !before.includes(f))
      copyInto(join(logDir, f), join(outLog, f));
  return true;
}

export async function backupDataDir(dataDir: string, outDir: string, now = new Date()): Promise<BackupManifest> {
  if (!existsSync(dataDir)) throw new Error(`no data directory at ${dataDir}`);
  if (existsSync(outDir) && readdirSync(outDir).length > 0)
    throw new Error(`${outDir} is not empty: back up into a new directory`);
  // the copy holds credentials.json (plain secrets): readable by its owner only
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const logDir = join(dataDir, 'log');
  if (existsSync(logDir)) {
    let copied = false;
    for (let attempt = 0; attempt < 5 && !copied; attempt++) copied = copyLog(logDir, join(outDir, 'log'));
    if (!copied) throw new Error('the commit log kept releasing segments during the copy; try again');
  }
  const sqlite = join(dataDir, SQLITE_FILE);
  if (existsSync(sqlite)) {
    // SQLite's online backup: a consistent snapshot while the writer goes on (WAL included)
    const db = new Database(sqlite, { readonly: true, fileMustExist: true });
    try {
      await db.backup(join(outDir, SQLITE_FILE));
    } finally {
      db.close();
    }
  }
  // credentials, rules changed through the API, alert state...: small files, copied as they are
  for (const rel of filesUnder(dataDir)) {
    if (SKIP.has(rel.split(/[\\/]/)[0]!)) continue;
    copyInto(join(dataDir, rel), join(outDir, rel));
  }
  const files = filesUnder(outDir).map((rel) => ({
    path: rel,
    bytes: statSync(join(outDir, rel)).size,
    sha256: sha256(join(outDir, rel)),
  }));
  const manifest: BackupManifest = { format: 1, createdAt: now.toISOString(), source: dataDir, files };
  writeFileSync(join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export interface RestoreResult {
  files: number;
  bytes: number;
  /** where the directory that was there before went (--force on a non-empty directory) */
  movedAside?: string;
}

export function restoreDataDir(
  backupDir: string,
  dataDir: string,
  options: { force?: boolean; now?: Date } = {},
): RestoreResult {
  const manifestFile = join(backupDir, MANIFEST);
  if (!existsSync(manifestFile)) throw new Error(`${backupDir} is not a backup made by ioc backup (no ${MANIFEST})`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
  if (manifest.format !== 1) throw new Error(`backup format ${String(manifest.format)} is not one this version reads`);
  // every file checked before anything in the data directory is touched
  for (const f of manifest.files) {
    const path = join(backupDir, f.path);
    if (!existsSync(path) || sha256(path) !== f.sha256)
      throw new Error(`${f.path} in the backup is missing or damaged (checksum differs); nothing was restored`);
  }
  const pid = runningPid(dataDir);
  if (pid !== undefined) throw new Error(`a platform (pid ${pid}) is running on ${dataDir}: stop it first`);
  let movedAside: string | undefined;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    if (!options.force)
      throw new Error(
        `${dataDir} is not empty: restore into an empty directory, or add --force to move it aside first`,
      );
    movedAside = `${dataDir}.before-restore-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(dataDir, movedAside);
  }
  mkdirSync(dataDir, { recursive: true });
  let bytes = 0;
  for (const f of manifest.files) {
    copyInto(join(backupDir, f.path), join(dataDir, f.path));
    bytes += f.bytes;
  }
  return { files: manifest.files.length, bytes, ...(movedAside ? { movedAside } : {}) };
}
